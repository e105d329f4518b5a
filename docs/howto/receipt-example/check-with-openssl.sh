#!/bin/sh
# Check the example receipt with openssl and coreutils only; run it in a copy of this folder.
# Entry 5 of a log of 7: the proof's three hashes are folded as leaf 4 (left of ours), leaf 6
# (right of the pair) and the subtree of leaves 0-3 (left) -- RFC 9162 section 2.1.3.2.
set -e
R=inventory-2025.tlog-proof
h() { openssl dgst -sha256 -binary; }

# 1. The entry (line 2, after "extra ") and its leaf hash SHA-256(0x00 || entry).
sed -n 2p "$R" | cut -d' ' -f2 | base64 -d > entry.json
{ printf '\000'; cat entry.json; } | h > node.bin

# 2. The inclusion proof (lines 4-6), folded into a root: SHA-256(0x01 || left || right).
sed -n 4p "$R" | base64 -d > p1.bin
sed -n 5p "$R" | base64 -d > p2.bin
sed -n 6p "$R" | base64 -d > p3.bin
{ printf '\001'; cat p1.bin node.bin; } | h > n1.bin
{ printf '\001'; cat n1.bin p2.bin; } | h > n2.bin
{ printf '\001'; cat p3.bin n2.bin; } | h > root.bin

# 3. The checkpoint: the note text between the two blank lines; its third line is the root.
awk 'f && /^$/ {exit} f {print} /^$/ {f=1}' "$R" > checkpoint.txt
test "$(base64 root.bin)" = "$(sed -n 3p checkpoint.txt)" && echo "inclusion proof: root matches"

# 4. The Ed25519 signature: the last line's base64 is a 4-byte key ID, then 64 signature bytes.
tail -n 1 "$R" | cut -d' ' -f3 | base64 -d | tail -c 64 > signature.bin
{ printf '\060\052\060\005\006\003\053\145\160\003\041\000'; cut -d+ -f3- ledger.vkey | base64 -d | tail -c 32; } > log-key.der
openssl pkey -pubin -inform DER -in log-key.der -out log-key.pem
openssl pkeyutl -verify -pubin -inkey log-key.pem -rawin -in checkpoint.txt -sigfile signature.bin

# 5. The file's SHA-256 against the one the entry records.
grep -q "\"inventory-2025.csv\":\"$(sha256sum inventory-2025.csv | cut -d' ' -f1)\"" entry.json \
  && echo "inventory-2025.csv: SHA-256 matches the entry"
