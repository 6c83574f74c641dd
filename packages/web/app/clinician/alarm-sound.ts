/**
 * Plays the alarm bursts (alarm-tones.ts) with WebAudio. Browsers allow sound only after a gesture, so the
 * audio context is created by the "Turn alarm sound on" button; until then, and after "off", nothing plays
 * and the screen says so. One instance for the whole clinician area.
 */

import { burst, burstLength } from './alarm-tones.ts';
import type { AlarmPriority } from './alarms-model.ts';

type Listener = () => void;

class AlarmSound {
  private ctx: AudioContext | undefined;
  private wave: PeriodicWave | undefined;
  private on = false;
  private busyUntil = 0;
  private readonly listeners = new Set<Listener>();

  get enabled(): boolean {
    return this.on;
  }

  get supported(): boolean {
    return typeof AudioContext !== 'undefined';
  }

  /** Must run inside a click handler (the gesture unlocks audio). Plays a short test burst. */
  async enable(): Promise<void> {
    if (!this.supported) return;
    this.ctx ??= new AudioContext();
    if (this.ctx.state === 'suspended') await this.ctx.resume();
    this.on = true;
    this.emit();
    this.play('medium');
  }

  disable(): void {
    this.on = false;
    void this.ctx?.suspend();
    this.emit();
  }

  /** Plays one burst unless sound is off or a burst is still playing. */
  play(priority: AlarmPriority): void {
    const ctx = this.ctx;
    if (!this.on || !ctx || ctx.state !== 'running') return;
    const pulses = burst(priority);
    if (pulses.length === 0 || ctx.currentTime < this.busyUntil) return;
    // A fundamental with four harmonics, as the standard asks, so the tone is locatable and audible.
    this.wave ??= ctx.createPeriodicWave(new Float32Array([0, 1, 0.5, 0.33, 0.25, 0.2]), new Float32Array(6));
    const t0 = ctx.currentTime + 0.05;
    for (const p of pulses) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.setPeriodicWave(this.wave);
      osc.frequency.value = p.frequency;
      const start = t0 + p.at;
      const end = start + p.duration;
      // 15 ms ramps: no clicks at pulse edges.
      gain.gain.setValueAtTime(0, start);
      gain.gain.linearRampToValueAtTime(0.25, start + 0.015);
      gain.gain.setValueAtTime(0.25, end - 0.015);
      gain.gain.linearRampToValueAtTime(0, end);
      osc.connect(gain).connect(ctx.destination);
      osc.start(start);
      osc.stop(end + 0.01);
    }
    this.busyUntil = t0 + burstLength(pulses);
  }

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private emit(): void {
    for (const l of this.listeners) l();
  }
}

export const alarmSound = new AlarmSound();
