// A call to a master that turns "it did not answer" into the contract's unreachable-master error (exit 3).
import { MasterUnreachableError, MrError } from '../errors.ts';
import { isUnavailable, unavailableReason } from '../wires/unavailable.ts';

export async function callMaster<T>(address: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof MrError || !isUnavailable(error)) throw error;
    throw new MasterUnreachableError(`master ${address} unreachable (${unavailableReason(error)}); check that it runs and the address is right`);
  }
}
