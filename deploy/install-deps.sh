#!/usr/bin/env bash
# Installs every Debian 12 package portsight needs to build, run and test.
# Idempotent and non-interactive; run as root (or through sudo).
set -euo pipefail

packages=(
    # build
    meson ninja-build pkgconf gcc clang libclang-rt-14-dev git
    # base libraries
    libglib2.0-dev libjson-glib-dev libsqlite3-dev sqlite3 libcurl4-openssl-dev
    libpaho-mqtt-dev libssl-dev openssl
    # media
    libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
    libgstrtspserver-1.0-dev gstreamer1.0-tools gstreamer1.0-plugins-base
    gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly
    gstreamer1.0-libav gstreamer1.0-rtsp
    # rendering and OCR
    libcairo2-dev libpango1.0-dev fonts-dejavu-core fonts-wqy-microhei
    # the fonts tools/ocr-synth renders with (test ocr-detector reads its frames)
    fonts-dejavu-extra fonts-liberation fonts-freefont-ttf
    tesseract-ocr libtesseract-dev libleptonica-dev
    # photos: a JPEG's EXIF orientation, HEIF (an iPhone's HEIC; libheif1 brings the HEVC
    # decoder and the encoder test-ocr writes its HEIF files with)
    libexif-dev libheif-dev
    # the console: HTTP server and WebSockets, WebRTC (webrtcbin needs the nice plugin)
    libsoup-3.0-dev gstreamer1.0-nice libnice-dev
    # tests: unit framework, broker, clustered broker, reference decoder, valgrind, a real browser
    check mosquitto mosquitto-clients nats-server gpsd-clients valgrind
    chromium chromium-driver python3-selenium
)

if [ "$(id -u)" -ne 0 ]; then
    exec sudo -E "$0" "$@"
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${packages[@]}"
# Debian starts the broker as a service on install; tests run their own on free ports.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet mosquitto 2>/dev/null; then
    systemctl stop mosquitto || true
fi
