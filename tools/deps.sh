#!/usr/bin/env bash
# Installs the Debian packages the build, the demo and the tests need, only when missing.
set -euo pipefail

packages=(
    nginx nginx-dev                      # the stock nginx and its module build tree
    g++ make libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libgtest-dev
    python3 python3-jwt python3-cryptography   # dev backend, token minting (PyJWT, RSA/EC/EdDSA)
    python3-prometheus-client            # t/metrics.t: the scrape read by the Prometheus parser
    curl
    openssl                              # t/tls.t: the test PKI and TLS dev backends' client (s_client)
    clang libclang-rt-14-dev valgrind wrk   # make fuzz, make valgrind, make faults / soak / bench
    libtest-base-perl libipc-run-perl libtest-longstring-perl libtext-diff-perl
    liblist-moreutils-perl libhttp-message-perl libcrypt-jwt-perl   # Test::Nginx runner, Crypt::JWT
    libcryptx-perl                       # Crypt::PK::RSA/ECC/Ed25519: test keys for Crypt::JWT
    debhelper dpkg-dev lintian           # make deb: the package (with nginx-dev's dh_nginx), its checks
    libio-socket-ssl-perl                # t/scale_out.t: requests straight to an owner host over TLS
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
    exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
