/**
 * Test support: a software WebAuthn authenticator (ES256, node:crypto, CBOR by tiny-cbor) that answers the
 * options our routes hand out with the same JSON a browser's `@simplewebauthn/browser` would send. It can be
 * told to lie (another origin, an old counter, no user verification) so tests can watch the server refuse.
 */
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { type CBORType, encodeCBOR } from '@levischuck/tiny-cbor';

const b64u = (b: Uint8Array | Buffer): string => Buffer.from(b).toString('base64url');
const sha256 = (b: Uint8Array | string): Buffer => createHash('sha256').update(b).digest();

const UP = 0x01;
const UV = 0x04;
const AT = 0x40;

export interface SoftCredential {
  readonly id: Buffer;
  readonly rpId: string;
  readonly userHandle: string;
  readonly privateKey: KeyObject;
  counter: number;
}

export interface Lies {
  /** The origin written into the client data (default: the one the authenticator was made for). */
  readonly origin?: string;
  /** Sign with this counter instead of the next one. */
  readonly counter?: number;
  /** Leave the user-verified flag out. */
  readonly noUserVerification?: boolean;
}

export class SoftAuthenticator {
  readonly credentials: SoftCredential[] = [];

  constructor(readonly origin: string) {}

  /** Answers PublicKeyCredentialCreationOptionsJSON: a new resident ES256 credential, attestation "none". */
  create(
    options: { challenge: string; rp: { id?: string }; user: { id: string } },
    lies: Lies = {},
  ): Record<string, unknown> {
    const rpId = options.rp.id ?? new URL(this.origin).hostname;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const id = randomBytes(16);
    const cose = encodeCBOR(
      new Map<number, number | Uint8Array>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, Buffer.from(jwk.x as string, 'base64url')],
        [-3, Buffer.from(jwk.y as string, 'base64url')],
      ]),
    );
    const length = Buffer.alloc(2);
    length.writeUInt16BE(id.length);
    const authData = Buffer.concat([
      this.header(rpId, AT | (lies.noUserVerification ? UP : UP | UV), 0),
      Buffer.alloc(16), // AAGUID: zeros, as with attestation "none"
      length,
      id,
      Buffer.from(cose),
    ]);
    const attestationObject = encodeCBOR(
      new Map<string, CBORType>([
        ['fmt', 'none'],
        ['attStmt', new Map<string, CBORType>()],
        ['authData', authData],
      ]),
    );
    this.credentials.push({ id, rpId, userHandle: options.user.id, privateKey, counter: 0 });
    return {
      id: b64u(id),
      rawId: b64u(id),
      type: 'public-key',
      response: {
        clientDataJSON: this.clientData('webauthn.create', options.challenge, lies),
        attestationObject: b64u(attestationObject),
        transports: ['internal'],
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  /** Answers PublicKeyCredentialRequestOptionsJSON with a credential (the newest unless named). */
  get(
    options: { challenge: string; rpId?: string },
    lies: Lies = {},
    credential = this.credentials.at(-1),
  ): Record<string, unknown> {
    if (!credential) throw new Error('the soft authenticator holds no credential');
    credential.counter = lies.counter ?? credential.counter + 1;
    const authData = this.header(
      options.rpId ?? credential.rpId,
      lies.noUserVerification ? UP : UP | UV,
      credential.counter,
    );
    const clientDataJSON = this.clientData('webauthn.get', options.challenge, lies);
    const signature = sign(
      'sha256',
      Buffer.concat([authData, sha256(Buffer.from(clientDataJSON, 'base64url'))]),
      credential.privateKey,
    );
    return {
      id: b64u(credential.id),
      rawId: b64u(credential.id),
      type: 'public-key',
      response: {
        clientDataJSON,
        authenticatorData: b64u(authData),
        signature: b64u(signature),
        userHandle: credential.userHandle,
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  private header(rpId: string, flags: number, counter: number): Buffer {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    return Buffer.concat([sha256(rpId), Buffer.from([flags]), count]);
  }

  private clientData(type: string, challenge: string, lies: Lies): string {
    const data = { type, challenge, origin: lies.origin ?? this.origin, crossOrigin: false };
    return Buffer.from(JSON.stringify(data)).toString('base64url');
  }
}
