#!/usr/bin/env node
/**
 * The CDK app. Context (`-c key=value`):
 * - region: the stack's region (default us-east-1);
 * - replicaRegions: comma-separated regions for DynamoDB global table replicas (default none);
 * - corsOrigins: comma-separated browser origins for the API and uploads (default none);
 * - stackName: default Chirp;
 * - alarmEmail: an address subscribed to the alarm topic (default none);
 * - rateLimits (e.g. read=600/60,write=60/60,media_init=30/1800), maxFollowees, pendingUploadsMax,
 *   uploadBytesPerDay: per-user limits (defaults: LIMITS in app/model.ts; docs/operations.md).
 */
import { App } from 'aws-cdk-lib';
import { buildChirpApp } from '../lib/chirp-app';

buildChirpApp(new App());
