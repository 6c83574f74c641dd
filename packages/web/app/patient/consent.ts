/**
 * The consent screen's model and its mapping to and from the platform's consent
 * (`{restrictions: [{categories, recipients?}], researchUse, version}`, core access policy): per data
 * category, hidden from everyone caring for the patient (no recipients: every clinician, nurse and
 * caregiver) and/or from particular people. Mapping back and forth keeps who may see what exactly; only
 * the grouping of restrictions may change.
 */

/** The policy's data categories (packages/core/src/access/policy.ts), in its order. */
export const CATEGORIES = [
  'demographics',
  'vital-signs',
  'waveforms',
  'activity',
  'alarms',
  'messages',
] as const;
export type Category = (typeof CATEGORIES)[number];

export const CATEGORY_TEXT: Readonly<Record<Category, { label: string; what: string; ifHidden: string }>> = {
  demographics: {
    label: 'Your name and details',
    what: 'Your name, date of birth and contact details.',
    ifHidden: 'They see a code instead of your name, which can make mix-ups more likely.',
  },
  'vital-signs': {
    label: 'Vital signs',
    what: 'Heart rate, oxygen, blood pressure, temperature and breathing rate from your devices.',
    ifHidden: 'They cannot watch these readings, so they cannot react when something changes.',
  },
  waveforms: {
    label: 'Heart and pulse traces',
    what: 'The ECG and pulse waves your devices record.',
    ifHidden: 'They cannot look at your heart rhythm.',
  },
  activity: {
    label: 'Activity',
    what: 'Steps and falls your devices detect.',
    ifHidden: 'They are not shown a fall.',
  },
  alarms: {
    label: 'Alerts',
    what: 'Warnings raised when a reading goes outside your limits.',
    ifHidden: 'They are not alerted when your readings go outside your limits.',
  },
  messages: {
    label: 'Messages',
    what: 'Messages between you and your care team.',
    ifHidden: 'They cannot read your messages or answer them.',
  },
};

export interface Restriction {
  readonly categories: readonly string[];
  readonly recipients?: readonly string[];
}

/** `GET /api/v1/patients/{id}/consent`. */
export interface Consent {
  readonly restrictions: readonly Restriction[];
  readonly researchUse: boolean;
  readonly version?: number;
}

export interface ConsentForm {
  /** Categories hidden from every clinician, nurse and caregiver. */
  readonly everyone: readonly Category[];
  /** Categories hidden from one person (user id) only; a person with none is left out. */
  readonly people: readonly { readonly userId: string; readonly categories: readonly Category[] }[];
  readonly researchUse: boolean;
  /** The version the form was read at: the platform refuses a save over a newer one. */
  readonly version: number;
}

const isCategory = (c: string): c is Category => (CATEGORIES as readonly string[]).includes(c);
const inOrder = (cs: Iterable<string>): Category[] => {
  const set = new Set(cs);
  return CATEGORIES.filter((c) => set.has(c));
};

export function formFromConsent(c: Consent): ConsentForm {
  const everyone = inOrder(
    c.restrictions.filter((r) => r.recipients === undefined).flatMap((r) => r.categories),
  );
  const hidden = new Set<string>(everyone);
  const perPerson = new Map<string, Set<string>>();
  for (const r of c.restrictions) {
    if (r.recipients === undefined) continue;
    for (const userId of r.recipients) {
      const set = perPerson.get(userId) ?? new Set<string>();
      for (const cat of r.categories) if (!hidden.has(cat)) set.add(cat);
      perPerson.set(userId, set);
    }
  }
  const people = [...perPerson]
    .map(([userId, cats]) => ({ userId, categories: inOrder(cats) }))
    .filter((p) => p.categories.length > 0)
    .sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
  return { everyone, people, researchUse: c.researchUse, version: c.version ?? 0 };
}

/**
 * The PUT body: one restriction for everyone, and one per distinct set of categories hidden from people
 * (people who hide the same set share it, which keeps within the platform's 32 restrictions).
 */
export function consentFromForm(f: ConsentForm): Required<Consent> {
  const restrictions: Restriction[] = [];
  const everyone = inOrder(f.everyone);
  if (everyone.length > 0) restrictions.push({ categories: everyone });
  const hidden = new Set<string>(everyone);
  const bySet = new Map<string, { categories: Category[]; recipients: string[] }>();
  for (const p of f.people) {
    const categories = inOrder(p.categories).filter((c) => !hidden.has(c));
    if (categories.length === 0) continue;
    const key = categories.join(',');
    const group = bySet.get(key) ?? { categories, recipients: [] };
    if (!group.recipients.includes(p.userId)) group.recipients.push(p.userId);
    bySet.set(key, group);
  }
  for (const g of bySet.values())
    restrictions.push({ categories: g.categories, recipients: g.recipients.sort() });
  return { restrictions, researchUse: f.researchUse, version: f.version };
}

/** Whether the consent withholds the category from this user (the policy's `restrictedFor`). */
export function isHiddenFrom(
  restrictions: readonly Restriction[],
  userId: string,
  category: string,
): boolean {
  return restrictions.some(
    (r) => r.categories.includes(category) && (r.recipients === undefined || r.recipients.includes(userId)),
  );
}

/** Sets one category hidden from everyone or not. */
export function withEveryone(f: ConsentForm, category: Category, hidden: boolean): ConsentForm {
  const everyone = hidden ? inOrder([...f.everyone, category]) : f.everyone.filter((c) => c !== category);
  return { ...f, everyone };
}

/** Sets one category hidden from one person or not (a person with nothing hidden is dropped). */
export function withPerson(f: ConsentForm, userId: string, category: Category, hidden: boolean): ConsentForm {
  const current = f.people.find((p) => p.userId === userId)?.categories ?? [];
  const categories = hidden ? inOrder([...current, category]) : current.filter((c) => c !== category);
  const others = f.people.filter((p) => p.userId !== userId);
  const people = categories.length > 0 ? [...others, { userId, categories }] : others;
  return { ...f, people: people.sort((a, b) => (a.userId < b.userId ? -1 : 1)) };
}

/** The consent in a sentence or two, for the top of the screen. */
export function consentSummary(f: ConsentForm, nameOf: (userId: string) => string = (u) => u): string[] {
  const lines: string[] = [];
  const label = (cs: readonly Category[]) => cs.map((c) => CATEGORY_TEXT[c].label.toLowerCase()).join(', ');
  lines.push(
    f.everyone.length === 0
      ? 'Everyone caring for you can see all of your data.'
      : `Hidden from everyone caring for you: ${label(f.everyone)}.`,
  );
  for (const p of f.people) lines.push(`Hidden from ${nameOf(p.userId)}: ${label(p.categories)}.`);
  lines.push(
    f.researchUse
      ? 'Your data may be used for research, without your name.'
      : 'Your data is not used for research.',
  );
  return lines;
}

export const knownCategories = (cs: readonly string[]): Category[] => cs.filter(isCategory);

// ----- caregivers -----

/** A caregiver grant as `GET /api/v1/patients/{id}/caregivers` lists it (`until` an RFC 3339 instant). */
export interface Grant {
  readonly id: string;
  readonly caregiverUserId: string;
  readonly categories?: readonly string[];
  readonly until?: string;
  readonly createdAt: string;
  readonly revokedAt?: string;
}

/** Grants still in force: not revoked, not expired. */
export function activeGrants(grants: readonly Grant[], now: number): Grant[] {
  return grants.filter(
    (g) => g.revokedAt === undefined && (g.until === undefined || Date.parse(g.until) > now),
  );
}

/**
 * The POST body for a new grant: categories only when not all are chosen (absent: all), `until` the end
 * of the chosen local day.
 */
export function grantBody(input: { userId: string; categories: readonly string[]; until: string }): {
  userId: string;
  categories?: Category[];
  until?: string;
} {
  const categories = inOrder(input.categories);
  const until = input.until ? endOfLocalDay(input.until) : undefined;
  return {
    userId: input.userId.trim(),
    ...(categories.length < CATEGORIES.length ? { categories } : {}),
    ...(until ? { until } : {}),
  };
}

/** `YYYY-MM-DD` → the ISO instant of 23:59:59 that day, local time; undefined when not a date. */
export function endOfLocalDay(date: string): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return undefined;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 23, 59, 59);
  return Number.isNaN(d.getTime()) || d.getDate() !== Number(m[3]) ? undefined : d.toISOString();
}
