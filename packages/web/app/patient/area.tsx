/** The patient side (patients and caregivers), chosen by route: #/my, #/consent, #/my-data, #/my-messages. */
import type { AreaProps } from '../shell.tsx';
import { Page } from '../ui/kit.tsx';
import { ConsentPage } from './consent-page.tsx';
import { MyData } from './my-data.tsx';
import { MyHealth } from './my-health.tsx';
import { MyMessages } from './my-messages.tsx';

export default function Area({ me, route }: AreaProps) {
  switch (route.parts[0] ?? 'my') {
    case 'my':
      return <MyHealth me={me} />;
    case 'consent':
      return <ConsentPage me={me} />;
    case 'my-data':
      return <MyData me={me} />;
    case 'my-messages':
      return <MyMessages me={me} />;
    default:
      return (
        <Page title="Not found">
          <p>There is no such screen. Use the menu above.</p>
        </Page>
      );
  }
}
