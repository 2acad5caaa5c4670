import { GROUP_SCHEMA } from "./scim-groups.js";
import { USER_SCHEMA } from "./scim-users.js";

/**
 * What the service provider says about itself (RFC 7643 §5–7): what it supports, its two
 * resource types and their schemas, so a provider (or a person) can tell before they send.
 */
export const MAX_RESULTS = 1_000;
const LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const CONFIG_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const RESOURCE_TYPE_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SCHEMA_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema";

type Json = Record<string, unknown>;

export function serviceProviderConfig(base: string): Json {
  return {
    schemas: [CONFIG_SCHEMA],
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_RESULTS },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: false },
    authenticationSchemes: [
      {
        type: "oauthbearertoken",
        name: "Bearer token",
        description: "The SCIM_TOKEN setting, sent as Authorization: Bearer TOKEN.",
        primary: true,
      },
    ],
    meta: { resourceType: "ServiceProviderConfig", location: `${base}/ServiceProviderConfig` },
  };
}

const attr = (name: string, type: string, extra: Json = {}): Json => ({
  name,
  type,
  multiValued: false,
  required: false,
  caseExact: false,
  mutability: "readWrite",
  returned: "default",
  uniqueness: "none",
  ...extra,
});

const SCHEMAS: Json[] = [
  {
    id: USER_SCHEMA,
    name: "User",
    description: "A person. Switchboard knows people by email: a User needs one.",
    attributes: [
      attr("userName", "string", { required: true, uniqueness: "server" }),
      attr("externalId", "string", { caseExact: true }),
      attr("name", "complex", {
        subAttributes: [
          attr("givenName", "string"),
          attr("familyName", "string"),
          attr("formatted", "string"),
        ],
      }),
      attr("displayName", "string"),
      attr("active", "boolean"),
      attr("emails", "complex", {
        multiValued: true,
        subAttributes: [
          attr("value", "string"),
          attr("type", "string"),
          attr("primary", "boolean"),
        ],
      }),
    ],
  },
  {
    id: GROUP_SCHEMA,
    name: "Group",
    description:
      "A team: its slug is the displayName lowercased with other characters as '-', unless SCIM_GROUP_MAP names one.",
    attributes: [
      attr("displayName", "string", { required: true }),
      attr("externalId", "string", { caseExact: true }),
      attr("members", "complex", {
        multiValued: true,
        subAttributes: [
          attr("value", "string", { mutability: "immutable" }),
          attr("display", "string", { mutability: "readOnly" }),
          attr("$ref", "reference", { mutability: "immutable" }),
        ],
      }),
    ],
  },
];

export function schemas(base: string): Json[] {
  return SCHEMAS.map((schema) => ({
    schemas: [SCHEMA_SCHEMA],
    ...schema,
    meta: { resourceType: "Schema", location: `${base}/Schemas/${schema.id}` },
  }));
}

export function resourceTypes(base: string): Json[] {
  return [
    { id: "User", name: "User", endpoint: "/Users", schema: USER_SCHEMA },
    { id: "Group", name: "Group", endpoint: "/Groups", schema: GROUP_SCHEMA },
  ].map((type) => ({
    schemas: [RESOURCE_TYPE_SCHEMA],
    ...type,
    meta: { resourceType: "ResourceType", location: `${base}/ResourceTypes/${type.id}` },
  }));
}

export function listResponse(resources: Json[], total: number, startIndex: number): Json {
  return {
    schemas: [LIST],
    totalResults: total,
    startIndex,
    itemsPerPage: resources.length,
    Resources: resources,
  };
}
