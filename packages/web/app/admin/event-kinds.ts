/**
 * The kinds the dead-letter and security-event filters offer: the platform's own lists, from the one
 * dependency-free file of core that names them (the browser bundle imports nothing else of core).
 */
export {
  REJECTION_CODE_LIST as REJECTION_CODES,
  SECURITY_KINDS,
  SECURITY_SUBSYSTEMS,
} from '@openiomt/core/event-kinds';
