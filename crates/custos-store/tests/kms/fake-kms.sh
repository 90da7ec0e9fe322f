#!/bin/bash
# Test-only stand-in for an agency's KMS tool (never use it for real keys): wraps a data key by
# encrypting it with openssl under a secret held here, bound to the key's name.
# Usage: fake-kms.sh wrap|unwrap NAME, base64 in on stdin, base64 out on stdout.
set -euo pipefail
secret="custos-test-kms-secret:$2"
case "$1" in
  wrap) base64 -d | openssl enc -aes-256-cbc -pbkdf2 -salt -pass "pass:$secret" | base64 -w0 ;;
  unwrap) base64 -d | openssl enc -d -aes-256-cbc -pbkdf2 -pass "pass:$secret" | base64 -w0 ;;
  *) echo "unknown operation $1" >&2; exit 2 ;;
esac
