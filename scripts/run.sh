#!/usr/bin/env bash
# Start the sandbox (the city's systems) and the wallet; stop both on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export DJANGO_DEBUG=true

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

$PY -m sandbox runserver 127.0.0.1:8100 --noreload &
pids+=($!)
$PY manage.py runserver 127.0.0.1:8000 --noreload &
pids+=($!)

for url in http://127.0.0.1:8100/idp/.well-known/openid-configuration http://127.0.0.1:8000/; do
  for _ in $(seq 1 60); do
    curl -fsS -o /dev/null "$url" 2>/dev/null && break
    sleep 0.5
  done
done

CITIZEN_CLIENTS=${WALLET_CITIZEN_CLIENT_IDS:-$(sed -n 's/^WALLET_CITIZEN_CLIENT_IDS=//p' var/dev.env)}
cat <<BANNER

  Oma.Helsinki wallet     http://127.0.0.1:8000/            (log in there)
  GraphQL API             http://127.0.0.1:8000/graphql/
  Sandbox (city systems)  http://127.0.0.1:8100/            OIDC issuer http://127.0.0.1:8100/idp

  Demo logins (password "demo"):
    aino   15-year-old youth member
    eero   boat owner, library patron
    sofia  library patron
    admin  connector operator

  Clients whose bearer tokens act for citizens (WALLET_CITIZEN_CLIENT_IDS): ${CITIZEN_CLIENTS}
  Services (registered in the wallet): demo-service, demo-service-2

  A citizen token for scripts (sandbox only):
    curl -s -d grant_type=password -d client_id=wallet-cli -d username=aino -d password=demo \\
         -d scope="openid profile email wallet" http://127.0.0.1:8100/idp/token/

  Ctrl-C stops both.
BANNER
wait -n "${pids[@]}"
