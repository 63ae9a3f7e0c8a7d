# Pinned inputs. Sourced by the other scripts.
# shellcheck shell=bash
LINUX_SOURCE_DEB_VERSION=6.12.117-1~deb12u1
LINUX_SOURCE_TARBALL=/usr/src/linux-source-6.12.tar.xz
LINUX_SOURCE_SHA256=585a4a074597aefa2b1a68ada83a3184ba351c127544dea80618bbcceaa3961f
BINDGEN_VERSION=0.73.0
# The upstream base: linux-source-7.3 from trixie-backports, fetched by
# scripts/fetch-base.sh into ~/.cache/mmrust-tools (never installed).
UPSTREAM_DEB_VERSION=7.3.4-1~bpo13+1
UPSTREAM_DEB_SIZE=166780612
UPSTREAM_DEB_SHA256=703e369ddd4cce971452f5a593ee55df3a5c10c83caf0fa0df039633ed181ee3
UPSTREAM_SHA256=76df1affb19f24926949369be1d74b60071c963c598ce8780bddd4bbf0fc3bc4
