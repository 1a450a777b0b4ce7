import { Duration } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { SECURITY_HEADERS } from '../../app/model';

/**
 * The security headers both distributions send (app/model.ts SECURITY_HEADERS: HSTS, nosniff,
 * frame DENY, referrer policy), with their CSP. The local CDN sends the same declaration.
 */
export function securityHeaders(
  contentSecurityPolicy: string,
): cloudfront.ResponseSecurityHeadersBehavior {
  return {
    contentTypeOptions: { override: true },
    frameOptions: {
      frameOption: cloudfront.HeadersFrameOption[SECURITY_HEADERS.frameOptions],
      override: true,
    },
    referrerPolicy: {
      // The enum's values are the header's own words.
      referrerPolicy: SECURITY_HEADERS.referrerPolicy as cloudfront.HeadersReferrerPolicy,
      override: true,
    },
    strictTransportSecurity: {
      accessControlMaxAge: Duration.seconds(SECURITY_HEADERS.hstsMaxAgeSeconds),
      includeSubdomains: true,
      preload: true,
      override: true,
    },
    contentSecurityPolicy: { contentSecurityPolicy, override: true },
  };
}
