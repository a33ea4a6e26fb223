import { Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import {
	AccountRecovery,
	FeaturePlan,
	Mfa,
	OAuthScope,
	PasskeyUserVerification,
	StandardThreatProtectionMode,
	UserPool,
	type UserPoolClient,
	type UserPoolDomain,
} from "aws-cdk-lib/aws-cognito";
import { Construct } from "constructs";
import { OPERATOR_GROUP } from "../../functions/portal/auth.ts";

/**
 * Cognito groups: the five workspace roles, and the platform operators'
 * group that the portal API checks in `cognito:groups`.
 */
export const PORTAL_GROUPS = [
	"owner",
	"admin",
	"billing",
	"developer",
	"viewer",
	OPERATOR_GROUP,
] as const;

export interface PortalUsersProps {
	cellId: string;
	/**
	 * Domain the portal is served from, such as `portal.example.com`. When
	 * set, it is the passkey (WebAuthn) relying party and the OAuth callback
	 * host. Without it, passkeys stay off and only the local portal
	 * (`http://localhost:4321`) may receive OAuth codes.
	 */
	portalDomain?: string;
}

/**
 * The Cognito user pool that signs customers in to the portal. It has email
 * sign-in, a strong password policy, TOTP MFA for everyone and enforced
 * threat protection (Plus feature plan). Its one app client is public and
 * uses the authorization code grant with PKCE.
 */
export class PortalUsers extends Construct {
	readonly userPool: UserPool;
	readonly client: UserPoolClient;
	readonly domain: UserPoolDomain;

	constructor(scope: Construct, id: string, props: PortalUsersProps) {
		super(scope, id);

		const passkeys = props.portalDomain !== undefined;
		this.userPool = new UserPool(this, "UserPool", {
			signInAliases: { email: true },
			autoVerify: { email: true },
			selfSignUpEnabled: true,
			signInCaseSensitive: false,
			mfa: Mfa.REQUIRED,
			mfaSecondFactor: { otp: true, sms: false },
			passwordPolicy: {
				minLength: 12,
				requireLowercase: true,
				requireUppercase: true,
				requireDigits: true,
				requireSymbols: true,
				tempPasswordValidity: Duration.days(3),
				passwordHistorySize: 5,
			},
			featurePlan: FeaturePlan.PLUS,
			standardThreatProtectionMode: StandardThreatProtectionMode.FULL_FUNCTION,
			// Passkey sign-in works in a pool that requires MFA only when the
			// passkey itself verifies the user, hence REQUIRED verification.
			...(passkeys
				? {
						signInPolicy: {
							allowedFirstAuthFactors: { password: true, passkey: true },
						},
						passkeyRelyingPartyId: props.portalDomain,
						passkeyUserVerification: PasskeyUserVerification.REQUIRED,
					}
				: {}),
			accountRecovery: AccountRecovery.EMAIL_ONLY,
			deletionProtection: true,
			removalPolicy: RemovalPolicy.RETAIN,
		});

		for (const group of PORTAL_GROUPS) {
			this.userPool.addGroup(`Group-${group}`, { groupName: group });
		}

		// Prefix domains must be unique per region, so the account id is part
		// of the prefix.
		this.domain = this.userPool.addDomain("Domain", {
			cognitoDomain: {
				domainPrefix: `gag-${props.cellId}-${Stack.of(this).account}`,
			},
		});

		const portalOrigin = passkeys
			? `https://${props.portalDomain}`
			: "http://localhost:4321";
		this.client = this.userPool.addClient("PortalClient", {
			// A browser app cannot keep a secret: the client is public and the
			// portal proves possession of the code with PKCE (S256).
			generateSecret: false,
			authFlows: { userSrp: true, user: passkeys },
			oAuth: {
				flows: { authorizationCodeGrant: true, implicitCodeGrant: false },
				scopes: [OAuthScope.OPENID, OAuthScope.EMAIL, OAuthScope.PROFILE],
				callbackUrls: [`${portalOrigin}/auth/callback`],
				logoutUrls: [`${portalOrigin}/`],
			},
			preventUserExistenceErrors: true,
			enableTokenRevocation: true,
			accessTokenValidity: Duration.hours(1),
			idTokenValidity: Duration.hours(1),
			refreshTokenValidity: Duration.days(30),
		});
	}
}
