'use strict';
// Loads proto/grpc/testing with @grpc/proto-loader: the same .proto files h2grpc and the other
// peers use, read at run time (no generated code).

const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO_ROOT = path.resolve(__dirname, '..', '..', '..', 'proto');

const definition = protoLoader.loadSync('grpc/testing/test.proto', {
  includeDirs: [PROTO_ROOT],
  keepCase: true,
  longs: Number,
  enums: Number,
  defaults: true,
  oneofs: true,
});

const testing = grpc.loadPackageDefinition(definition).grpc.testing;

function argument(name) {
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    if (args[i] === `--${name}`) return args[i + 1];
    if (args[i].startsWith(`--${name}=`)) return args[i].slice(name.length + 3);
  }
  return undefined;
}

function flag(name) {
  return process.argv.slice(2).includes(`--${name}`);
}

function readTls(name) {
  return fs.readFileSync(path.join(argument('tls_dir'), name));
}

// --tls_dir DIR: TLS trusting DIR/ca.pem; --mtls: present DIR/client.pem and DIR/client.key.
function clientCredentials() {
  if (!argument('tls_dir')) return grpc.credentials.createInsecure();
  return flag('mtls')
    ? grpc.credentials.createSsl(readTls('ca.pem'), readTls('client.key'), readTls('client.pem'))
    : grpc.credentials.createSsl(readTls('ca.pem'));
}

// --server_name NAME: verify this name instead of the address's host.
function clientOptions() {
  const name = argument('server_name');
  return name ? { 'grpc.ssl_target_name_override': name } : {};
}

// --tls_dir DIR: TLS with DIR/server.pem and DIR/server.key; --mtls: require a client
// certificate issued by DIR/ca.pem.
function serverCredentials() {
  if (!argument('tls_dir')) return grpc.ServerCredentials.createInsecure();
  const pair = { private_key: readTls('server.key'), cert_chain: readTls('server.pem') };
  return grpc.ServerCredentials.createSsl(flag('mtls') ? readTls('ca.pem') : null, [pair], flag('mtls'));
}

module.exports = { grpc, testing, argument, definition, clientCredentials, clientOptions, serverCredentials };
