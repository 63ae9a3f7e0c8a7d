# Pinned inputs. Sourced by the other scripts.
# shellcheck shell=bash
LINUX_SOURCE_DEB_VERSION=6.12.117-1~deb12u1
LINUX_SOURCE_TARBALL=/usr/src/linux-source-6.12.tar.xz
LINUX_SOURCE_SHA256=585a4a074597aefa2b1a68ada83a3184ba351c127544dea80618bbcceaa3961f
BINDGEN_VERSION=0.73.0
