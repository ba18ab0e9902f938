import type { RaftMessage } from '../../raft/messages.ts';
import { validateRaftFrame } from './raft-message-schema.ts';
import { WsTransport, type WsTransportOptions } from './ws-transport.ts';

export type RaftWsTransportOptions = Omit<WsTransportOptions<RaftMessage>, 'validate' | 'addressOf'>;

/** The ws transport for Raft members: frames are schema-checked and must name the real sender. */
export function startRaftWsTransport(options: RaftWsTransportOptions): Promise<WsTransport<RaftMessage>> {
  return WsTransport.start<RaftMessage>({ ...options, validate: validateRaftFrame, addressOf: (message) => ({ from: message.from, to: message.to }) });
}
