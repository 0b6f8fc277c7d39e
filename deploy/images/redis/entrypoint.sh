# Debian's redis-server refuses other hosts without a password (protected mode); on a
# private container network the official image lets them in, and so does this one.
set -eu
if [ "${1:-}" = "redis-server" ]; then
    shift
    exec redis-server --protected-mode no "$@"
fi
exec "$@"
