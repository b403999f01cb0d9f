import { kaleyraUserIdFor as derive } from '../../src/users/kaleyra-users.js'

/** The KALEYRA_USER_ID_SECRET `setup()` gives the service. */
export const TEST_USER_ID_SECRET = 'test-user-id-secret'

/** The Kaleyra id the service under test derives for a new external user. */
export function kaleyraUserIdFor (externalId: string): string {
  return derive(externalId, TEST_USER_ID_SECRET)
}
