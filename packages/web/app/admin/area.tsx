/** The admin console, chosen by route (#/admin/...). */
import type { AreaProps } from '../shell.tsx';
import { Page } from '../ui/kit.tsx';
import { AuditLog, BreakGlassList } from './audit.tsx';
import { CareTeams } from './care-teams.tsx';
import { Devices } from './devices.tsx';
import { ErasureRequests } from './erasure.tsx';
import { DeadLetters, SecurityEvents } from './logs.tsx';
import { Patients } from './patients.tsx';
import { Users } from './users.tsx';

export default function Area({ route }: AreaProps) {
  const [, screen = 'devices', sub] = route.parts;
  switch (`${screen}${sub ? `/${sub}` : ''}`) {
    case 'devices':
      return <Devices />;
    case 'users':
      return <Users />;
    case 'users/patients':
      return <Patients />;
    case 'care-teams':
      return <CareTeams />;
    case 'dead-letters':
      return <DeadLetters />;
    case 'security':
      return <SecurityEvents />;
    case 'audit':
      return <AuditLog />;
    case 'audit/erasure-requests':
      return <ErasureRequests />;
    case 'audit/break-glass':
      return <BreakGlassList />;
    default:
      return (
        <Page title="Not found">
          <p>There is no such screen. Use the menu above.</p>
        </Page>
      );
  }
}
