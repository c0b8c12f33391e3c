// The on-chain side of a running gateway: the chain connection, the watcher that keeps the sender's view of it
// fresh, the funds check that must pass before start-up completes, and the payer that jobs use.
import type { ChainSettings } from "../config-chain.js";
import type { Logger } from "../log.js";
import { ByocPayer, type PaymentObserver } from "../payments/byoc-payer.js";
import type { SenderInfo } from "../payments/ticket-params.js";
import { connectChain, type LivepeerChain } from "./chain.js";
import { ChainWatcher, checkSenderFunds } from "./chain-watcher.js";
import type { GatewayIdentity } from "./identity.js";

export interface OnchainPayments {
  readonly chain: LivepeerChain;
  readonly payer: ByocPayer;
  senderInfo(): SenderInfo;
  close(): void;
}

/**
 * Connects to -ethUrl, resolves the contracts through the Controller, reads the L1 block, the round and the
 * sender's deposit and reserve, and refuses to start when the gateway could not pay (no deposit, no reserve, or an
 * unlock in progress). Every error names what was wrong, never the URL's path or query.
 */
export async function startOnchainPayments(
  settings: ChainSettings,
  identity: GatewayIdentity,
  logger: Logger,
  observer?: PaymentObserver,
): Promise<OnchainPayments> {
  const signer = identity.signer;
  if (signer === undefined) throw new Error(`-network ${settings.network} needs the gateway's key (-ethKeystorePath)`);
  const chain = await connectChain({ ethUrl: settings.ethUrl, controller: settings.controller });
  let watcher: ChainWatcher;
  try {
    watcher = await ChainWatcher.start(chain, signer.address, { blockPollingIntervalMs: settings.blockPollingIntervalMs, logger });
  } catch (err) {
    chain.close();
    throw err;
  }
  try {
    checkSenderFunds(watcher.senderInfo, signer.address, watcher.lastInitializedRound);
  } catch (err) {
    watcher.stop();
    chain.close();
    throw err;
  }
  logger.info(
    { network: settings.network, chainId: chain.chainId.toString(), ticketBroker: chain.contracts.ticketBroker, sender: signer.address },
    "on-chain: paying orchestrators with tickets",
  );
  const payer = new ByocPayer({
    signer,
    chain: watcher,
    limits: { maxTicketEV: settings.maxTicketEV, maxTotalEV: settings.maxTotalEV, depositMultiplier: settings.depositMultiplier },
    observer,
  });
  return {
    chain,
    payer,
    senderInfo: () => watcher.senderInfo,
    close() {
      watcher.stop();
      chain.close();
    },
  };
}
