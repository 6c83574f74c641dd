/**
 * What a browser's WebAuthn refusal means, in plain words. Kept apart from `@simplewebauthn/browser` so the
 * sign-in page can use it without loading the library before the passkey button is pressed.
 */
import { ApiError } from '../api.ts';

export function passkeyRefusal(e: unknown, title: string): ApiError {
  if (e instanceof ApiError) return e;
  const name = e instanceof Error ? e.name : '';
  const detail =
    name === 'NotAllowedError' || name === 'AbortError'
      ? 'it was cancelled, timed out, or no passkey for this site was chosen'
      : name === 'InvalidStateError'
        ? 'this device already holds a passkey for your account'
        : name === 'NotSupportedError'
          ? 'this browser or device cannot make passkeys'
          : name === 'SecurityError'
            ? 'the browser refused this address for passkeys (open the platform by its name, not an IP address)'
            : e instanceof Error
              ? e.message
              : String(e);
  return new ApiError({ status: 0, title, detail });
}
