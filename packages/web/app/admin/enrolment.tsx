/** The one-time enrolment code of a device, shown once after registering it or issuing a new one. */
import { QrCode } from '../session/sign-in.tsx';
import { Time } from '../ui/kit.tsx';
import { enrolmentPayload } from './fleet.ts';

/** The one-time enrolment code, as text and as a QR code the device's installer scans. */
export function EnrolmentCode({
  deviceId,
  code,
  expiresAt,
}: {
  deviceId: string;
  code: string;
  expiresAt: string;
}) {
  const payload = enrolmentPayload(location.origin, deviceId, code);
  return (
    <div class="enrolment" data-testid="enrolment" data-device-id={deviceId} role="status">
      <h3>Enrolment code for {deviceId}</h3>
      <p>
        Code:{' '}
        <code class="secret enrolment-code" data-testid="enrolment-code">
          {code}
        </code>
      </p>
      <QrCode text={payload} label={`Enrolment QR code for device ${deviceId}`} />
      <p>
        Valid until <strong>{new Date(expiresAt).toLocaleString()}</strong> (<Time at={expiresAt} />
        ), once. It is shown only now: the platform keeps only a hash of it.
      </p>
      <details>
        <summary>What the QR code holds</summary>
        <pre class="mono wrap" data-testid="enrolment-payload">
          {payload}
        </pre>
      </details>
    </div>
  );
}
