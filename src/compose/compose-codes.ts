/**
 * Every diagnostic code the compose loader emits, so callers and tests can match on them.
 * Schema codes come from the vendored compose-spec schema; the rest from our own rules.
 */
import { FAILOVER_LABEL_CODE } from '../orchestrator/failover/delivery-mode.ts';
import { schedulerCodes } from '../scheduler/scheduler-codes.ts';

export const composeCodes = {
  yamlSyntax: 'COMPOSE_YAML_SYNTAX',
  unknownKey: 'COMPOSE_UNKNOWN_KEY',
  wrongType: 'COMPOSE_WRONG_TYPE',
  invalidValue: 'COMPOSE_INVALID_VALUE',
  notAMapping: 'COMPOSE_NOT_A_MAPPING',
  noServices: 'COMPOSE_NO_SERVICES',
  interpolationSyntax: 'COMPOSE_INTERPOLATION_SYNTAX',
  requiredVariable: 'COMPOSE_REQUIRED_VARIABLE',
  unsetVariable: 'COMPOSE_UNSET_VARIABLE',
  dotenvInvalid: 'COMPOSE_DOTENV_INVALID',
  envFileMissing: 'COMPOSE_ENV_FILE_MISSING',
  envFileOutsideWorkingDir: 'COMPOSE_ENV_FILE_OUTSIDE_WORKING_DIR',
  relativePathWithoutWorkingDir: 'COMPOSE_RELATIVE_PATH_WITHOUT_WORKING_DIR',
  imageMissing: 'COMPOSE_IMAGE_MISSING',
  buildWithoutImage: 'COMPOSE_BUILD_WITHOUT_IMAGE',
  buildIgnored: 'COMPOSE_BUILD_IGNORED',
  containerNameWithReplicas: 'COMPOSE_CONTAINER_NAME_WITH_REPLICAS',
  unsupportedKey: 'COMPOSE_UNSUPPORTED_KEY',
  ignoredKey: 'COMPOSE_IGNORED_KEY',
  /** A rollout monitor raised to the healthcheck's window. */
  monitorRaised: 'COMPOSE_MONITOR_RAISED',
  invalidPort: 'COMPOSE_INVALID_PORT',
  invalidVolume: 'COMPOSE_INVALID_VOLUME',
  undefinedVolume: 'COMPOSE_UNDEFINED_VOLUME',
  invalidDevice: 'COMPOSE_INVALID_DEVICE',
  invalidDuration: 'COMPOSE_INVALID_DURATION',
  invalidSize: 'COMPOSE_INVALID_SIZE',
  invalidNumber: 'COMPOSE_INVALID_NUMBER',
  invalidCommand: 'COMPOSE_INVALID_COMMAND',
  invalidHealthcheck: 'COMPOSE_INVALID_HEALTHCHECK',
  invalidRestart: 'COMPOSE_INVALID_RESTART',
  invalidDeploy: 'COMPOSE_INVALID_DEPLOY',
  tooManyReplicas: 'COMPOSE_TOO_MANY_REPLICAS',
  portConflict: 'COMPOSE_PORT_CONFLICT',
  dependsOnUnknown: 'COMPOSE_DEPENDS_ON_UNKNOWN',
  dependsOnCycle: 'COMPOSE_DEPENDS_ON_CYCLE',
  invalidStackName: 'COMPOSE_INVALID_STACK_NAME',
  networkModeUnsupported: 'COMPOSE_NETWORK_MODE_UNSUPPORTED',
  // VPN groups (network_mode: service:X), check-vpn-groups.ts.
  networkModeUnknownService: 'COMPOSE_NETWORK_MODE_UNKNOWN_SERVICE',
  vpnDependentKey: 'COMPOSE_VPN_DEPENDENT_KEY',
  vpnChain: 'COMPOSE_VPN_CHAIN',
  vpnPlacementSplit: 'COMPOSE_VPN_PLACEMENT_SPLIT',
  vpnReplicas: 'COMPOSE_VPN_REPLICAS',
  restartPolicyDefaulted: 'COMPOSE_RESTART_POLICY_DEFAULTED',
  networkUnsupported: 'COMPOSE_NETWORK_UNSUPPORTED',
  undefinedNetwork: 'COMPOSE_UNDEFINED_NETWORK',
  invalidNetwork: 'COMPOSE_INVALID_NETWORK',
  // Placement rules, checked by the scheduler's own parser so the loader and the scheduler agree.
  invalidConstraint: schedulerCodes.invalidConstraint,
  unknownConstraintAttribute: schedulerCodes.unknownConstraintAttribute,
  invalidPlacementPreference: schedulerCodes.invalidPreference,
  // constellation.delivery / constellation.rebalance deploy labels (issue 7).
  invalidFailoverLabel: FAILOVER_LABEL_CODE,
} as const;

export type ComposeCode = (typeof composeCodes)[keyof typeof composeCodes];
