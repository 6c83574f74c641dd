/**
 * The clinician screens, chosen by route: census (home), a patient, the alarm inbox, messages. The alarm
 * stream, its announcer and its sound live here, above the screens, so a new high alarm is heard and
 * announced whichever clinician screen is open.
 */
import type { ComponentChildren } from 'preact';
import type { AreaProps } from '../shell.tsx';
import { Page } from '../ui/kit.tsx';
import { AlarmBar } from './alarm-bar.tsx';
import { useAlarmFeed } from './alarm-feed.ts';
import { AlarmInbox } from './alarms.tsx';
import { CensusScreen } from './census.tsx';
import { MessagesScreen } from './messages.tsx';
import { PatientScreen } from './patient.tsx';
import { PatientGate } from './patient-gate.tsx';

export default function Area({ me, route }: AreaProps) {
  const feed = useAlarmFeed();
  const [first, second] = route.parts;
  let screen: ComponentChildren;
  if (first === 'patients' && second)
    screen = (
      <PatientGate key={second} me={me} patientId={second}>
        <PatientScreen me={me} patientId={second} feed={feed} />
      </PatientGate>
    );
  else if (first === 'alarms') screen = <AlarmInbox me={me} feed={feed} />;
  else if (first === 'messages') screen = <MessagesScreen me={me} patientId={second} />;
  else if (first === 'census' || first === undefined || first === 'patients')
    screen = <CensusScreen feed={feed} />;
  else
    screen = (
      <Page title="Not found">
        <p>There is no clinician screen at this address.</p>
      </Page>
    );
  return (
    <div class="clinician">
      <AlarmBar feed={feed} />
      {screen}
    </div>
  );
}
