#!/usr/bin/env bash
# Installs what training the OCR networks needs (not needed to build or run
# portsight): PyTorch (CPU) and PIL from Debian, and the fonts tools/ocr-synth renders with.
# Then: nice -n 10 /usr/bin/python3 tools/train_ocr.py --synth BUILD/tools/ocr-synth
# and    nice -n 10 /usr/bin/python3 tools/train_detector.py --synth BUILD/tools/ocr-synth
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
    exec sudo -E "$0" "$@"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends python3-torch python3-numpy python3-pil \
    fonts-dejavu-core fonts-dejavu-extra fonts-liberation fonts-freefont-ttf
