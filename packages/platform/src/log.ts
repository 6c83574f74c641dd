import pino, { type Logger } from 'pino';

/**
 * The application logger. Patient data never belongs in logs; as a second line of defence, any field
 * with a name that could carry it is redacted.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'openiomt' },
      redact: {
        paths: [
          'payload',
          '*.payload',
          'patient',
          '*.patient',
          'patientId',
          '*.patientId',
          'name',
          '*.name',
          'password',
          '*.password',
          'token',
          '*.token',
          'authorization',
          '*.authorization',
          'req.headers.authorization',
        ],
        censor: '[redacted]',
      },
    },
    destination as pino.DestinationStream | undefined,
  );
}

export type { Logger };
