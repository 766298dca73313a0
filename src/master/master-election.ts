// Masters that stand in for each other (mr master --ha): each campaigns in an etcd election
// (etcd3's, after etcd's own Go client) under /mr-ha/<name>/; the one elected leads, the others
// wait. The leadership is bound to a lease of LEADER_TTL_SEC that the leader's client keeps
// alive: a leader killed, frozen or cut off from etcd loses it within that time, and a standby is
// elected. What the leader writes to the journal holds only while its campaign key exists
// (etcd-journal.ts), so an old leader that lost its lease commits nothing more.
import type { Etcd3 } from 'etcd3';
import { etcdClient, haPrefix } from './etcd-journal.ts';

/** Seconds a leader's lease lives without a keep-alive: how soon a standby takes over a dead leader. */
export const LEADER_TTL_SEC = 3;

export interface Leadership {
  client: Etcd3;
  /** The key this leader's campaign holds: journal writes are fenced on it. */
  fenceKey: string;
  resign(): Promise<void>;
}

/**
 * Campaigns with `address` (what clients connect to) until elected; onLost: the leadership went
 * after it was won (the lease lapsed: etcd was out of reach too long, or this process was frozen).
 * standingBy: told once, when another leads now.
 */
export async function campaignToLead(endpoints: string[], name: string, address: string, onLost: (why: string) => void, standingBy: (leader: string) => void): Promise<Leadership> {
  const client = etcdClient(endpoints);
  const election = client.election(`${haPrefix(name)}leader`, LEADER_TTL_SEC);
  for (;;) {
    const campaign = election.campaign(address);
    let elected = false;
    const failed = new Promise<Error>((resolve) => campaign.on('error', (error: Error) => {
      if (elected) onLost(`its leadership lapsed: ${error.message}`);
      resolve(error);
    }));
    void election.leader().then((leader) => {
      if (leader !== undefined && leader !== address && !elected) standingBy(leader);
    }).catch(() => {});
    const outcome = await Promise.race([campaign.wait().then(() => undefined, (error: Error) => error), failed]);
    if (outcome === undefined) {
      elected = true;
      return { client, fenceKey: await campaign.getCampaignKey(), resign: () => campaign.resign() };
    }
    // The campaign's lease failed while it waited (etcd out of reach): campaign again.
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
