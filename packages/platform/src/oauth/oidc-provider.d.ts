/**
 * The part of oidc-provider 9 this platform uses (the package ships no type declarations). The runtime
 * behaviour is the library's; these only describe the calls made from src/oauth/.
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export interface AdapterPayload {
    [key: string]: unknown;
    grantId?: string;
    userCode?: string;
    uid?: string;
    consumed?: number;
  }

  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  export interface InteractionDetails {
    readonly uid: string;
    readonly prompt: { name: string; reasons: string[]; details: Record<string, unknown> };
    readonly params: Record<string, unknown> & { client_id: string; scope?: string };
    readonly session?: { accountId: string };
    readonly grantId?: string;
    readonly returnTo: string;
  }

  export interface GrantInstance {
    readonly jti: string;
    readonly accountId: string;
    readonly clientId: string;
    addOIDCScope(scope: string): void;
    addResourceScope(resource: string, scope: string): void;
    save(): Promise<string>;
  }

  export interface ClientInstance {
    readonly clientId: string;
    readonly clientName?: string;
    readonly scope?: string;
    readonly redirectUris?: string[];
    /** How the client authenticated at this request's endpoint (`none` for a public client). */
    readonly clientAuthMethod?: string;
    metadata(): Record<string, unknown>;
  }

  export interface KoaContext {
    readonly oidc?: {
      readonly route?: string;
      readonly entities: Record<string, { accountId?: string; scope?: string; grantId?: string } | undefined>;
      readonly params?: Record<string, unknown>;
      readonly client?: ClientInstance;
    };
    body: unknown;
    status: number;
  }

  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    readonly issuer: string;
    proxy: boolean;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    use(middleware: (ctx: KoaContext, next: () => Promise<void>) => Promise<void>): void;
    on(event: string, listener: (...args: unknown[]) => void): void;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
    interactionResult(
      req: IncomingMessage,
      res: ServerResponse,
      result: Record<string, unknown>,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<string>;
    readonly Grant: {
      new (props: { accountId: string; clientId: string }): GrantInstance;
      find(id: string): Promise<GrantInstance | undefined>;
    };
    readonly Client: {
      find(id: string): Promise<ClientInstance | undefined>;
      validate(metadata: Record<string, unknown>): Promise<void>;
    };
  }

  export const errors: Record<string, new (description?: string) => Error>;

  export interface PolicyContext {
    readonly req: IncomingMessage;
    readonly oidc: { readonly session: { readonly accountId?: string } };
  }

  export const interactionPolicy: {
    Check: {
      new (
        reason: string,
        description: string,
        check: (ctx: PolicyContext) => Promise<boolean> | boolean,
      ): unknown;
      readonly REQUEST_PROMPT: boolean;
      readonly NO_NEED_TO_PROMPT: boolean;
    };
    base(): { get(name: string): { checks: { push(check: unknown): number } } };
  };
}
