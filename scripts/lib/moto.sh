# Shared by scripts/test and scripts/demo: find or install the moto emulator, start it on a free
# loopback port, stop it on exit. Source this file, then call `moto_start`.

XACCT_ROOT=${XACCT_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
MOTO_VENV="$XACCT_ROOT/target/moto-venv"

moto_find() {
  if [ -x "$MOTO_VENV/bin/moto_server" ]; then
    echo "$MOTO_VENV/bin/moto_server"
  elif command -v moto_server >/dev/null 2>&1 && moto_server --help >/dev/null 2>&1; then
    command -v moto_server
  fi
}

moto_install() {
  echo "xacct: installing the AWS emulator (moto[server]) into $MOTO_VENV" >&2
  command -v python3 >/dev/null || { echo "xacct: python3 is needed to run the AWS emulator" >&2; return 1; }
  python3 -m venv "$MOTO_VENV"
  "$MOTO_VENV/bin/pip" install --quiet --disable-pip-version-check 'moto[server]>=5,<6'
}

# The Python that has boto3 (installed with moto): used by the demo to play the operator.
moto_python() {
  if [ -x "$MOTO_VENV/bin/python" ]; then echo "$MOTO_VENV/bin/python"; else echo python3; fi
}

moto_start() {
  local bin port i
  bin=$(moto_find)
  if [ -z "$bin" ]; then
    moto_install
    bin="$MOTO_VENV/bin/moto_server"
  fi
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  MOTO_LOG=${MOTO_LOG:-"$XACCT_ROOT/target/moto-$port.log"}
  mkdir -p "$(dirname "$MOTO_LOG")"
  # AWS-managed policies exist (bootstrap attaches them); moto-site/sitecustomize.py makes moto
  # build them only for accounts that look at managed policies, not for every fresh account.
  MOTO_IAM_LOAD_MANAGED_POLICIES=true PYTHONPATH="$XACCT_ROOT/scripts/lib/moto-site${PYTHONPATH:+:$PYTHONPATH}" \
    "$bin" -H 127.0.0.1 -p "$port" >"$MOTO_LOG" 2>&1 &
  MOTO_PID=$!
  MOTO_URL="http://127.0.0.1:$port"
  for i in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "xacct: AWS emulator listening on $MOTO_URL (pid $MOTO_PID, log $MOTO_LOG)" >&2
      return 0
    fi
    kill -0 "$MOTO_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "xacct: the AWS emulator did not start; its log:" >&2
  cat "$MOTO_LOG" >&2
  return 1
}

moto_stop() {
  if [ -n "${MOTO_PID:-}" ]; then
    kill "$MOTO_PID" 2>/dev/null || true
    wait "$MOTO_PID" 2>/dev/null || true
  fi
}
