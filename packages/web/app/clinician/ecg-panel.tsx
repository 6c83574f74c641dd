/**
 * The live waveform panel of the patient view: the strip (ecg-strip.ts), a lead choice when the devices
 * send several, freeze, and a status line in words (live, no signal, lead off) that screen readers hear
 * politely when it changes.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { type Channel, preferredCode, type WaveformChannels } from './ecg-buffer.ts';
import { EcgStrip, type StripState } from './ecg-strip.ts';

const WAVE_NAMES: Readonly<Record<string, string>> = {
  'ecg-i': 'ECG lead I',
  'ecg-ii': 'ECG lead II',
  'ecg-iii': 'ECG lead III',
  'ecg-avr': 'ECG lead aVR',
  'ecg-avl': 'ECG lead aVL',
  'ecg-avf': 'ECG lead aVF',
  'ecg-mlii': 'ECG modified lead II',
  ppg: 'Pleth (PPG)',
  respiration: 'Respiration',
};

export const waveName = (code: string) =>
  WAVE_NAMES[code] ?? code.replace(/^ecg-/, 'ECG lead ').toUpperCase();

const STATE_TEXT: Record<StripState, string> = {
  waiting: 'Waiting for a waveform…',
  live: 'Live',
  'no-signal': 'No signal: the stream stopped',
  'lead-off': 'Lead off',
  frozen: 'Frozen (the stream keeps recording)',
};

export function EcgPanel({
  channels,
  codes,
  leadOff,
}: {
  channels: WaveformChannels;
  /** The codes received so far (changes when a new one appears). */
  codes: readonly string[];
  leadOff: boolean;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const strip = useRef<EcgStrip | undefined>(undefined);
  const [chosen, setChosen] = useState<string | undefined>();
  const [frozen, setFrozen] = useState(false);
  const [state, setState] = useState<StripState>('waiting');
  const code = chosen && codes.includes(chosen) ? chosen : preferredCode(codes);
  const channel: Channel | undefined = code ? channels.get(code) : undefined;

  useEffect(() => {
    if (!canvas.current) return;
    const s = new EcgStrip(canvas.current);
    strip.current = s;
    s.start();
    // The status line follows the strip once a second (not per frame).
    const t = setInterval(() => setState(s.state()), 1000);
    const scheme = matchMedia('(prefers-color-scheme: dark)');
    const restyle = () => s.restyle();
    scheme.addEventListener('change', restyle);
    return () => {
      s.stop();
      clearInterval(t);
      scheme.removeEventListener('change', restyle);
    };
  }, []);

  useEffect(() => {
    strip.current?.show(channel);
  }, [channel]);

  useEffect(() => {
    if (strip.current) strip.current.leadOff = leadOff;
  }, [leadOff]);

  const name = code ? waveName(code) : 'Waveform';
  return (
    <div class="ecg-panel">
      <div class="ecg-controls">
        {codes.length > 1 ? (
          <div class="field inline-field">
            <label for="ecg-lead">Waveform</label>
            <select
              id="ecg-lead"
              value={code}
              onChange={(e) => setChosen((e.target as HTMLSelectElement).value)}
            >
              {codes.map((c) => (
                <option key={c} value={c}>
                  {waveName(c)}
                </option>
              ))}
            </select>
          </div>
        ) : null}
        <button
          type="button"
          aria-pressed={frozen}
          disabled={!channel}
          onClick={() => {
            strip.current?.freeze(!frozen);
            setFrozen(!frozen);
            setState(strip.current?.state() ?? 'waiting');
          }}
        >
          Freeze
        </button>
        <p class={`ecg-status ecg-${state}`} role="status">
          <strong>{name}</strong>
          {channel
            ? ` · ${channel.ring.rateHz} Hz · 25 mm/s${channel.unit === 'mV' ? ' · 10 mm/mV' : ''}`
            : ''}
          {' · '}
          {codes.length === 0 ? 'No waveform from this patient’s devices yet' : STATE_TEXT[state]}
        </p>
      </div>
      <canvas
        ref={canvas}
        class="ecg-canvas"
        role="img"
        aria-label={`${name}, live sweep at 25 millimetres per second`}
        data-testid="ecg-strip"
      />
    </div>
  );
}
