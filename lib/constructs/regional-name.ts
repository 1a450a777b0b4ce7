import { Names, Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

/**
 * A name for an account-global resource (CloudFront OACs and policies): unique in the app and
 * ending in the region, so the same stack name deploys to two regions of one account without a
 * name collision.
 */
export function regionalName(construct: Construct, maxLength: number): string {
  const region = Stack.of(construct).region;
  return `${Names.uniqueResourceName(construct, { maxLength: maxLength - 16 })}-${region}`;
}
