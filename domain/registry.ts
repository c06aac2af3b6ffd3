import { z } from 'zod'

/** Identifiers appear in MQTT topics, so they may not hold topic separators or wildcards. */
export const identifierSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]*$/,
    'letters, digits, "_", "-" and "." only, starting with a letter or digit',
  )

export const deviceKinds = ['crane', 'pit'] as const
export const deviceKindSchema = z.enum(deviceKinds)
export type DeviceKind = z.infer<typeof deviceKindSchema>

export const roles = ['officer', 'supervisor', 'regulator', 'admin'] as const
export const roleSchema = z.enum(roles)
export type Role = z.infer<typeof roleSchema>

/**
 * A region is a 6-digit administrative division code (GB/T 2260): 330000 浙江省, 330100 杭州市,
 * 330106 西湖区. Supervision levels (project, city/county, province) are read from it.
 */
export const regionSchema = z
  .string()
  .regex(
    /^\d{6}$/,
    'expected a 6-digit administrative division code (GB/T 2260), e.g. 330106 for 杭州市西湖区',
  )

export const pitGradeSchema = z.union([z.literal(1), z.literal(2), z.literal(3)], {
  error: 'the pit safety grade is 1, 2 or 3 (GB 50497-2019)',
})

/** The support structure, a row of GB 50497-2019 Table 8.0.4 (see `supportTypes` in rules). */
export const supportTypeSchema = z.enum(['pile_wall', 'soil_nailing', 'cement_soil_wall', 'slope'])

export const siteInputSchema = z.strictObject({
  id: identifierSchema,
  name: z.string().min(1).max(200),
  region: regionSchema,
  pitGrade: pitGradeSchema.nullable().optional(),
  pitDepthM: z.number().positive().max(200).nullable().optional(),
  /** GB 50497-2019 §8.0.3: once the base slab is cast, pit rate limits are × 0.7. */
  baseSlabCast: z.boolean().optional(),
  /** Piles and diaphragm walls, soil nailing, cement-soil wall, slope (Table 8.0.4's rows). */
  supportType: supportTypeSchema.nullable().optional(),
  /** Whether the retaining wall is socketed into rock. */
  rockSocketed: z.boolean().optional(),
})
export type SiteInput = z.infer<typeof siteInputSchema>

export const siteSchema = z.object({
  id: z.string(),
  name: z.string(),
  region: z.string(),
  pitGrade: pitGradeSchema.nullable(),
  pitDepthM: z.number().nullable(),
  baseSlabCast: z.boolean(),
  supportType: supportTypeSchema.nullable(),
  rockSocketed: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
})
export type Site = z.infer<typeof siteSchema>

export const deviceInputSchema = z.strictObject({
  siteId: identifierSchema,
  id: identifierSchema,
  kind: deviceKindSchema,
  name: z.string().min(1).max(200).optional(),
})
export type DeviceInput = z.infer<typeof deviceInputSchema>

export const deviceSchema = z.object({
  id: z.string(),
  siteId: z.string(),
  kind: deviceKindSchema,
  name: z.string().nullable(),
  online: z.boolean(),
  lastSeenAt: z.string().nullable(),
  acceptedCount: z.number(),
  rejectedCount: z.number(),
  duplicateCount: z.number(),
  lastRejectReason: z.string().nullable(),
  lastRejectAt: z.string().nullable(),
  createdAt: z.string(),
  /** Set while an admin has disabled the device: its logins are refused. */
  disabledAt: z.string().nullable(),
})
export type Device = z.infer<typeof deviceSchema>

/** What ingest needs to know of a device to authenticate it and route its messages. */
export interface DeviceCredentials {
  readonly id: string
  readonly siteId: string
  readonly kind: DeviceKind
  readonly secretHash: string
  readonly updatedAt: string
  readonly disabledAt: string | null
}

export const tokenInputSchema = z
  .strictObject({
    role: roleSchema,
    name: z.string().min(1).max(200),
    sites: z
      .array(identifierSchema)
      .max(1000)
      .default([])
      .transform((sites) => [...new Set(sites)]),
    region: regionSchema.nullable().optional(),
  })
  .superRefine((input, ctx) => {
    if ((input.role === 'officer' || input.role === 'supervisor') && input.sites.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['sites'],
        message: `${input.role} tokens need at least one site`,
      })
    }
  })
export type TokenInput = z.input<typeof tokenInputSchema>

/** The caller behind a bearer token: role plus the scope it may see. */
export interface Principal {
  readonly tokenId: string
  readonly name: string
  readonly role: Role
  /** Sites an officer or supervisor works on; empty for regulators and admins. */
  readonly sites: readonly string[]
  /** Region a regulator supervises; null means everywhere. */
  readonly region: string | null
}

/** A token as an admin lists it: never the token itself, which is stored only as a hash. */
export const tokenSummarySchema = z.object({
  id: z.string(),
  role: roleSchema,
  name: z.string(),
  sites: z.array(z.string()),
  region: z.string().nullable(),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
})
export type TokenSummary = z.infer<typeof tokenSummarySchema>

export interface IssuedToken {
  readonly id: string
  readonly token: string
  readonly role: Role
  readonly name: string
  readonly sites: readonly string[]
  readonly region: string | null
}
