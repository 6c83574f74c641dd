/**
 * The CONNECT handshake of one connection: the checks a CONNECT must pass before anyone is asked who the
 * client is, then the gateway's authentication hook, whose answer accepts or refuses the connection. A failed
 * login is refused only once it is on record, so what the client sees is already audited.
 */
import type { IConnectPacket } from 'mqtt-packet';
import type { MqttAuthResult, MqttGatewayHooks, MqttSecurityEvent } from './hooks.ts';
import { RC4, RC5 } from './reason-codes.ts';

/** The connection's side of the handshake. */
export interface HandshakeParty {
  readonly hooks: MqttGatewayHooks;
  readonly remoteAddress: string;
  /** False once the connection has moved on (it closed while the hook ran): the answer is then dropped. */
  authenticating(): boolean;
  /** The gateway is shutting down: nobody new is let in. */
  serverClosing(): boolean;
  accept(deviceId: string): void;
  refuse(code4: number, code5: number): void;
  /** Resolves once the event is recorded; never rejects. */
  record(event: Omit<MqttSecurityEvent, 'source'>): Promise<void>;
}

/** Runs the handshake of a CONNECT whose protocol version (4 or 5) the connection has taken. */
export function handshake(connect: IConnectPacket, version: 4 | 5, party: HandshakeParty): void {
  if (version === 5 && connect.properties?.authenticationMethod !== undefined) {
    party.refuse(RC4.notAuthorized, RC5.badAuthenticationMethod);
    return;
  }
  if (version === 4 && connect.clientId === '' && connect.clean === false) {
    party.refuse(RC4.identifierRejected, RC4.identifierRejected);
    return;
  }
  const request = {
    clientId: connect.clientId,
    protocolVersion: version,
    remoteAddress: party.remoteAddress,
    ...(connect.username !== undefined ? { username: connect.username } : {}),
    ...(connect.password !== undefined ? { password: connect.password } : {}),
  };
  Promise.resolve()
    .then(() => party.hooks.authenticate(request))
    .then(
      (result) => answer(connect, result, party),
      () => {
        if (party.authenticating()) party.refuse(RC4.serverUnavailable, RC5.serverUnavailable);
      },
    );
}

function answer(connect: IConnectPacket, result: MqttAuthResult, party: HandshakeParty): void {
  if (!party.authenticating()) return;
  if (party.serverClosing()) {
    party.refuse(RC4.serverUnavailable, RC5.serverUnavailable);
    return;
  }
  if (!result.ok && result.unrecorded) {
    party.refuse(RC4.notAuthorized, RC5.notAuthorized);
    return;
  }
  if (!result.ok) {
    // The refusal waits for the attempt to be on record, so what the client sees is already audited.
    void party
      .record({
        kind: 'auth-failed',
        // The device it claimed to be: failed logins per device feed intrusion detection.
        ...(connect.username ? { deviceId: connect.username } : {}),
        detail: `client ${JSON.stringify(connect.clientId)} user ${JSON.stringify(connect.username ?? '')}: ${result.reason}`,
      })
      .then(() => {
        if (party.authenticating()) party.refuse(RC4.notAuthorized, RC5.notAuthorized);
      });
    return;
  }
  party.accept(result.deviceId);
}
