/**
 * The resources (rights) and roles the ACL page lists (cognigy-get-current-user-acl.openapi.yaml),
 * so the sandbox answers with every resource present and its flags true or false, as Cognigy does.
 * A user may hold rights on resources not listed here (a "new" right): they are rendered too.
 */
export const RIGHT_OPERATIONS = ['create', 'read', 'update', 'delete'] as const;

export const ORGANISATION_RESOURCES = [
  'analyticsOdata', 'apiKeys', 'auditEvents', 'liveAgentAccount', 'projects', 'userDetails', 'users',
  'connections', 'contactProfiles', 'conversationHistory', 'endpoints', 'extensions', 'flowNodeComments',
  'flowNodeDescription', 'flowNodes', 'flows', 'intents', 'knowledgeStores', 'lexicons', 'liveAgentInbox',
  'locales', 'logs', 'memberDetails', 'members', 'goals', 'nluConnectors', 'playbooks', 'project',
  'projectSettings', 'snapshots', 'states', 'tasks', 'tokens', 'voiceGatewayAccount',
] as const;

export const PROJECT_RESOURCES = [
  'agentAssistConfigs', 'analytics', 'connections', 'contactProfiles', 'conversationHistory', 'endpoints',
  'extensions', 'extensionsTrust', 'flowNodeComments', 'flowNodeDescription', 'flowNodes', 'flows',
  'handoverProviders', 'intents', 'largeLanguageModels', 'knowledgeStores', 'lexicons', 'liveAgentInbox',
  'locales', 'logs', 'memberDetails', 'members', 'goals', 'nluConnectors', 'playbooks', 'project',
  'projectSettings', 'snapshots', 'states', 'tasks', 'tokens', 'analyticsOdata', 'apiKeys', 'projects',
  'userDetails', 'users', 'simulator',
] as const;

/** Every right of the listed resources, as 'resource.operation'. */
export function allRights(resources: readonly string[]): string[] {
  return resources.flatMap((resource) => RIGHT_OPERATIONS.map((op) => `${resource}.${op}`));
}
