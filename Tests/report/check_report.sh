#!/usr/bin/env bash
# `archive report` on a demo archive, rendered by a real headless Chromium
# (Debian's chromium): the screenshot must show the charts
# (the bars' colours in quantity) on a page that is not blank.
#   Tests/report/check_report.sh [--update-image]   (also writes docs/report.png)
set -euo pipefail
cd "$(dirname "$0")/../.."
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "check_report: chromium is not installed"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
swift build -q 2>/dev/null || swift build
archive=$(swift build --show-bin-path)/archive
"$archive" demo --db "$work/archive.db" >/dev/null
"$archive" report --db "$work/archive.db" --out "$work/report.html" --tz UTC --price-input 3 --price-output 15 2>/dev/null
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --user-data-dir="$work/profile" --window-size=1100,2400 --screenshot="$work/report.png" "file://$work/report.html" \
  >"$work/chromium.log" 2>&1 || { cat "$work/chromium.log"; exit 1; }
[ -s "$work/report.png" ] || { echo "check_report: chromium wrote no screenshot"; tail -5 "$work/chromium.log"; exit 1; }
python3 - "$work/report.png" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, chunks = 8, {}
idat = b""
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    if kind == b"IHDR":
        width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT":
        idat += body
    pos += 12 + length
assert depth == 8 and interlace == 0 and color in (2, 6), (depth, color, interlace)
channels = 3 if color == 2 else 4
raw = zlib.decompress(idat)
stride = width * channels
rows, previous, offset = [], bytearray(stride), 0
for _ in range(height):
    kind = raw[offset]; line = bytearray(raw[offset + 1:offset + 1 + stride]); offset += 1 + stride
    for i in range(stride):
        a = line[i - channels] if i >= channels else 0
        b = previous[i]
        c = previous[i - channels] if i >= channels else 0
        if kind == 1: line[i] = (line[i] + a) & 255
        elif kind == 2: line[i] = (line[i] + b) & 255
        elif kind == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif kind == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(line); previous = line
def count(rgb):
    return sum(1 for line in rows for i in range(0, stride, channels) if tuple(line[i:i + 3]) == rgb)
blue, red = count((0x4e, 0x79, 0xa7)), count((0xe1, 0x57, 0x59))
ink = sum(1 for line in rows for i in range(0, stride, channels) if sum(line[i:i + 3]) < 600)
print(f"screenshot {width}x{height}: {blue} px of the first project's colour, {red} px of the error bars', {ink} px of ink")
failures = [name for name, ok in [("spend bars drawn", blue > 2000), ("error-run bars drawn", red > 200),
                                  ("text and tables drawn", ink > 20000)] if not ok]
for name in failures: print("FAIL", name)
sys.exit(1 if failures else 0)
PY
if [ "${1:-}" = "--update-image" ]; then
  "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$work/profile" \
    --window-size=1000,1500 --screenshot=docs/report.png "file://$work/report.html" >/dev/null 2>&1
  echo "wrote docs/report.png"
fi
