// A strict third-party OCPP 1.6J central system (ocpp-rpc in strictMode) for the charge point's tests.
//
// Usage: node strict_cs.js [port]        (port 0 or none: a free one; see the "listening" event)
// Env:   STRICT_CS_USERS='{"CP1": "secret"}'  requires HTTP Basic auth, user = charge box id.
//
// stdout: one JSON object per line, {"event": ...}:
//   listening {port} | connected {identity, protocol} | closed {identity, code, reason}
//   call {identity, method, params}             every CALL of a charge point, before validation
//   strictValidationFailure {identity, method, outbound, isCall, code, message, params, result}
//   badMessage {identity, code, message, raw}   a frame that is not OCPP-J at all
//   result {id, result} | error {id, code, message, details}   answers to stdin commands
// stdin: one JSON object per line:
//   {"id": 7, "identity": "CP1", "method": "GetConfiguration", "params": {}}   a CALL to a charge point
//   {"id": 8, "respond": "Authorize", "result": {...}}     from now on answer Authorize with this
//   {"id": 9, "disconnect": "CP1", "code": 1001}          close a charge point's connection
// The process ends when stdin closes, so it never outlives the test that started it.
'use strict';

const readline = require('node:readline');
const { RPCServer, createRPCError } = require('ocpp-rpc');

const port = Number(process.argv[2] || 0);
const users = process.env.STRICT_CS_USERS ? JSON.parse(process.env.STRICT_CS_USERS) : null;
const emit = (event, fields) => process.stdout.write(JSON.stringify({ event, ...fields }) + '\n');
const now = () => new Date().toISOString();
const accepted = { status: 'Accepted' };
let txSeq = 0;

// The same defaults as tests/ocpp/csms.py; a function gets the CALL's params.
const responders = {
  Authorize: () => ({ idTagInfo: accepted }),
  BootNotification: () => ({ status: 'Accepted', currentTime: now(), interval: 300 }),
  DataTransfer: () => ({ status: 'Accepted' }),
  DiagnosticsStatusNotification: () => ({}),
  FirmwareStatusNotification: () => ({}),
  Heartbeat: () => ({ currentTime: now() }),
  MeterValues: () => ({}),
  StartTransaction: () => ({ transactionId: ++txSeq, idTagInfo: accepted }),
  StatusNotification: () => ({}),
  StopTransaction: (params) => ('idTag' in params ? { idTagInfo: accepted } : {}),
  LogStatusNotification: () => ({}),
  SecurityEventNotification: () => ({}),
  SignCertificate: () => ({ status: 'Accepted' }),
  SignedFirmwareStatusNotification: () => ({}),
};

const server = new RPCServer({ protocols: ['ocpp1.6'], strictMode: true, respondWithDetailedErrors: true });
const clients = new Map();

// Without auth(), a client offering no (or no mutual) subprotocol is accepted with protocol '' and
// strict mode does not apply to it (ocpp-rpc lib/server.js): refuse it in the handshake instead.
server.auth((accept, reject, handshake) => {
  if (!handshake.protocols.has('ocpp1.6')) return reject(400, 'ocpp1.6 required');
  if (users) {
    const expected = users[handshake.identity];
    const given = handshake.password ? handshake.password.toString('utf8') : undefined;
    if (expected === undefined || given !== expected) return reject(401, 'Unauthorized');
  }
  return accept({}, 'ocpp1.6');
});

server.on('client', (client) => {
  const identity = client.identity;
  clients.set(identity, client);
  emit('connected', { identity, protocol: client.protocol });
  client.on('call', ({ outbound, payload }) => {
    if (!outbound) emit('call', { identity, method: payload[2], params: payload[3] });
  });
  client.on('strictValidationFailure', (e) =>
    emit('strictValidationFailure', {
      identity,
      method: e.method,
      outbound: e.outbound,
      isCall: e.isCall,
      code: e.error.rpcErrorCode || '',
      message: e.error.message,
      params: e.params,
      result: e.result,
    }),
  );
  client.on('badMessage', ({ buffer, error }) =>
    emit('badMessage', { identity, code: error.rpcErrorCode || '', message: error.message, raw: String(buffer) }),
  );
  client.on('close', ({ code, reason }) => {
    if (clients.get(identity) === client) clients.delete(identity);
    emit('closed', { identity, code, reason: String(reason || '') });
  });
  for (const method of Object.keys(responders)) {
    client.handle(method, ({ params }) => responders[method](params));
  }
  client.handle(({ method }) => {
    throw createRPCError('NotImplemented', `${method} not handled`);
  });
});

async function command(line) {
  let request;
  try {
    request = JSON.parse(line);
  } catch (err) {
    emit('error', { id: null, code: 'BadCommand', message: `not JSON: ${line}` });
    return;
  }
  const { id } = request;
  try {
    if (request.respond) {
      const canned = request.result;
      responders[request.respond] = () => canned;
      emit('result', { id, result: null });
    } else if (request.disconnect) {
      const client = clients.get(request.disconnect);
      if (!client) throw createRPCError('GenericError', `${request.disconnect} is not connected`);
      await client.close({ code: request.code || 1001, reason: request.reason || '' });
      emit('result', { id, result: null });
    } else {
      const client = clients.get(request.identity);
      if (!client) throw createRPCError('GenericError', `${request.identity} is not connected`);
      const options = request.timeoutMs ? { callTimeoutMs: request.timeoutMs } : {};
      const result = await client.call(request.method, request.params || {}, options);
      emit('result', { id, result });
    }
  } catch (err) {
    emit('error', { id, code: err.rpcErrorCode || err.name || 'Error', message: err.message, details: err.details });
  }
}

(async () => {
  const http = await server.listen(port, '127.0.0.1');
  emit('listening', { port: http.address().port });
  const input = readline.createInterface({ input: process.stdin });
  input.on('line', (line) => {
    if (line.trim()) command(line);
  });
  input.on('close', async () => {
    await server.close({ awaitPending: false, force: true });
    process.exit(0);
  });
})();
