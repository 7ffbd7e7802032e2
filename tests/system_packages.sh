#!/usr/bin/env bash
# Installs the Debian packages whose real data the tests read: the Noto
# emoji font (emoji captions), Fashion-MNIST (class-conditional model) and
# npm (fetches the emoji-datasource packages). Only what is missing:
# Debian's npm conflicts with a Node.js that ships its own npm. Run as root
# (or through sudo) on Debian or Ubuntu.
set -euo pipefail

missing=()
[ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || missing+=(fonts-noto-color-emoji)
[ -d /usr/share/datasets/fashion-mnist ] || missing+=(dataset-fashion-mnist)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
