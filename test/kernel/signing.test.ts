import { createHash } from "node:crypto"
import { describe, expect, it } from "@effect/vitest"
import { Either, FastCheck as fc, Option } from "effect"
import { canonicalize } from "../../src/kernel/canonical-json.js"
import {
  decodeBase64Strict,
  type Ed25519KeyPair,
  encodeBase64,
  generateKeyPair,
  keyIdOf,
  keyPairFromPrivateKey,
  privateKeyBytes,
  type Signature,
  signableDigest,
  signDigestBytes,
  verifyDigestBytes,
  verifySignedDocument
} from "../../src/kernel/signing.js"

const hex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, "hex"))
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex")

const right = <A, E>(either: Either.Either<A, E>): A => {
  if (Either.isLeft(either)) throw new Error(`expected Right, got Left ${JSON.stringify(either.left)}`)
  return either.right
}

// RFC 8032 §7.1, TEST 1 (empty message) and TEST 2 (one byte 0x72).
const TEST1 = {
  secret: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
  public: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
  message: "",
  signature:
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
}
const TEST2 = {
  secret: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
  public: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
  message: "72",
  signature:
    "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
}

const pairOf = (vector: { readonly secret: string; readonly public: string }): Ed25519KeyPair =>
  right(keyPairFromPrivateKey(hex(vector.secret + vector.public)))

describe("Ed25519: RFC 8032 §7.1", () => {
  it.each([
    ["TEST 1", TEST1],
    ["TEST 2", TEST2]
  ])("%s: signs to the published signature and verifies", (_name, vector) => {
    const pair = pairOf(vector)
    expect(toHex(pair.publicKey)).toBe(vector.public)
    const signature = signDigestBytes(pair.privateKey, hex(vector.message))
    expect(toHex(signature)).toBe(vector.signature)
    expect(verifyDigestBytes(hex(vector.public), hex(vector.message), hex(vector.signature))).toBe(true)
  })

  it("TEST 1: a flipped signature bit, another message or another key does not verify", () => {
    const sig = hex(TEST1.signature)
    const flipped = new Uint8Array(sig)
    flipped[0] = (flipped[0] as number) ^ 0x01
    expect(verifyDigestBytes(hex(TEST1.public), new Uint8Array(0), flipped)).toBe(false)
    expect(verifyDigestBytes(hex(TEST1.public), hex("00"), sig)).toBe(false)
    expect(verifyDigestBytes(hex(TEST2.public), new Uint8Array(0), sig)).toBe(false)
  })

  it("verifyDigestBytes returns false (does not throw) for wrong key or signature lengths", () => {
    expect(verifyDigestBytes(hex(TEST1.public).subarray(0, 31), new Uint8Array(0), hex(TEST1.signature))).toBe(false)
    expect(verifyDigestBytes(hex(TEST1.public), new Uint8Array(0), hex(TEST1.signature).subarray(0, 63))).toBe(false)
    expect(verifyDigestBytes(hex(TEST1.public), new Uint8Array(0), new Uint8Array(65))).toBe(false)
  })
})

describe("key material", () => {
  it("keyIdOf is the hex sha256 of the raw 32-byte public key", () => {
    const pub = hex(TEST1.public)
    expect(keyIdOf(pub)).toBe(createHash("sha256").update(pub).digest("hex"))
    expect(pairOf(TEST1).keyId).toBe(keyIdOf(pub))
  })

  it("keyIdOf reproduces the approval-token key_id golden vector of gate.md §13", () => {
    const pub = Option.getOrThrow(decodeBase64Strict("2452IFcJJprSJUSaASiKpWRN4bzs7KbckliBk2cKGeg="))
    expect(pub.length).toBe(32)
    expect(keyIdOf(pub)).toBe("8393424682c702d59a923d26924b2d4827711e6c585117077766645e22efeb52")
  })

  it.each([0, 32, 63, 65, 96])("keyPairFromPrivateKey rejects %i bytes with WrongLength", (length) => {
    expect(keyPairFromPrivateKey(new Uint8Array(length))).toStrictEqual(Either.left({ _tag: "WrongLength", length }))
  })

  it("keyPairFromPrivateKey rejects a public half that does not belong to the seed", () => {
    expect(keyPairFromPrivateKey(hex(TEST1.secret + TEST2.public))).toStrictEqual(Either.left({ _tag: "PublicHalfMismatch" }))
    const corrupted = hex(TEST1.secret + TEST1.public)
    corrupted[63] = (corrupted[63] as number) ^ 0x80
    expect(Either.isLeft(keyPairFromPrivateKey(corrupted))).toBe(true)
  })

  it("privateKeyBytes gives back seed ‖ public key", () => {
    expect(toHex(privateKeyBytes(pairOf(TEST1)))).toBe(TEST1.secret + TEST1.public)
  })

  it("generateKeyPair gives a consistent pair that round-trips through its 64-byte form", () => {
    const pair = generateKeyPair()
    expect(pair.publicKey.length).toBe(32)
    expect(pair.keyId).toBe(keyIdOf(pair.publicKey))
    const bytes = privateKeyBytes(pair)
    expect(bytes.length).toBe(64)
    const again = right(keyPairFromPrivateKey(bytes))
    expect(toHex(again.publicKey)).toBe(toHex(pair.publicKey))
    const digest = hex(createHash("sha256").update("x").digest("hex"))
    expect(verifyDigestBytes(pair.publicKey, digest, signDigestBytes(again.privateKey, digest))).toBe(true)
  })
})

describe("decodeBase64Strict / encodeBase64", () => {
  it("decodes padded standard base64", () => {
    expect(Option.map(decodeBase64Strict("aGVsbG8="), (b) => Buffer.from(b).toString("utf8"))).toStrictEqual(Option.some("hello"))
    expect(Option.map(decodeBase64Strict("aGk="), (b) => b.length)).toStrictEqual(Option.some(2))
    expect(Option.map(decodeBase64Strict("aGVs"), (b) => b.length)).toStrictEqual(Option.some(3))
    expect(Option.map(decodeBase64Strict("+/+/"), (b) => toHex(b))).toStrictEqual(Option.some("fbffbf"))
    expect(Option.map(decodeBase64Strict(""), (b) => b.length)).toStrictEqual(Option.some(0))
  })

  it.each([
    ["unpadded", "aGVsbG8"],
    ["unpadded (two missing)", "aGk"],
    ["URL-safe alphabet", "-_-_"],
    ["URL-safe alphabet with padding", "aGk_"],
    ["inner space", "aGVs bG8="],
    ["leading space", " aGVsbG8="],
    ["trailing space", "aGVsbG8= "],
    ["tab", "aGVs\tbG8="],
    ["data after padding", "aGk=aGk="],
    ["too much padding", "aGk==="],
    ["one dangling character", "aGVsb"],
    ["non-alphabet character", "aGV*"]
  ])("rejects %s input", (_label, text) => {
    expect(Option.isNone(decodeBase64Strict(text))).toBe(true)
  })

  it.prop("encodeBase64 round-trips through decodeBase64Strict", [fc.uint8Array({ maxLength: 80 })], ([bytes]) => {
    const text = encodeBase64(bytes)
    expect(text).toBe(Buffer.from(bytes).toString("base64"))
    expect(Option.map(decodeBase64Strict(text), toHex)).toStrictEqual(Option.some(toHex(bytes)))
  })
})

/** Signs `unsigned` the way gait artifacts are signed (gate.md §0.2). */
const signDocument = (pair: Ed25519KeyPair, unsigned: { readonly [key: string]: unknown }): Record<string, unknown> => {
  const digest = right(signableDigest(unsigned))
  const signature: Signature = {
    alg: "ed25519",
    key_id: pair.keyId,
    sig: encodeBase64(signDigestBytes(pair.privateKey, hex(digest))),
    signed_digest: digest
  }
  return { ...unsigned, signature }
}

const sampleDocument = {
  schema_id: "gait.gate.trace",
  schema_version: "1.0.0",
  trace_id: "8a640148677956eba29ff9cf",
  verdict: "allow",
  observed_at: "2026-02-06T16:00:00.12Z",
  extra: { nested: [1, 2, { z: "€" }] }
}

const withSignature = (document: Record<string, unknown>, patch: Partial<Signature>): Record<string, unknown> => ({
  ...document,
  signature: { ...(document["signature"] as Signature), ...patch }
})

describe("verifySignedDocument", () => {
  const pair = pairOf(TEST1)
  const other = pairOf(TEST2)
  const signed = signDocument(pair, sampleDocument)

  it("signed_digest is sha256 of JCS(document without signature) and sig signs its raw 32 bytes", () => {
    const sig = signed["signature"] as Signature
    const expected = createHash("sha256").update(right(canonicalize(sampleDocument))).digest("hex")
    expect(sig.signed_digest).toBe(expected)
    expect(verifyDigestBytes(pair.publicKey, hex(expected), Option.getOrThrow(decodeBase64Strict(sig.sig)))).toBe(true)
  })

  it("accepts a freshly signed document, also after a JSON round trip with reordered keys", () => {
    expect(verifySignedDocument(signed, pair.publicKey)).toStrictEqual(Either.void)
    const reordered = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(signed).reverse()))) as Record<string, unknown>
    expect(verifySignedDocument(reordered, pair.publicKey)).toStrictEqual(Either.void)
  })

  it("accepts an empty key_id (only a non-empty key_id is checked)", () => {
    expect(verifySignedDocument(withSignature(signed, { key_id: "" }), pair.publicKey)).toStrictEqual(Either.void)
  })

  it("a tampered field gives \"signed_digest mismatch\"", () => {
    expect(verifySignedDocument({ ...signed, verdict: "block" }, pair.publicKey)).toStrictEqual(Either.left("signed_digest mismatch"))
  })

  it("an added unknown field is covered by the signature", () => {
    expect(verifySignedDocument({ ...signed, injected: true }, pair.publicKey)).toStrictEqual(Either.left("signed_digest mismatch"))
  })

  it("a wrong key gives \"key id mismatch\"", () => {
    expect(verifySignedDocument(signed, other.publicKey)).toStrictEqual(Either.left("key id mismatch"))
  })

  it("a wrong key with no key_id gives \"signature verification failed\"", () => {
    expect(verifySignedDocument(withSignature(signed, { key_id: "" }), other.publicKey)).toStrictEqual(
      Either.left("signature verification failed")
    )
  })

  it("a signature by another key over the right digest fails verification", () => {
    const digest = (signed["signature"] as Signature).signed_digest
    const forged = withSignature(signed, { sig: encodeBase64(signDigestBytes(other.privateKey, hex(digest))) })
    expect(verifySignedDocument(forged, pair.publicKey)).toStrictEqual(Either.left("signature verification failed"))
  })

  it("a missing or malformed signature object gives \"missing signature\"", () => {
    expect(verifySignedDocument(sampleDocument, pair.publicKey)).toStrictEqual(Either.left("missing signature"))
    expect(verifySignedDocument({ ...sampleDocument, signature: null }, pair.publicKey)).toStrictEqual(Either.left("missing signature"))
    expect(verifySignedDocument({ ...sampleDocument, signature: "abc" }, pair.publicKey)).toStrictEqual(Either.left("missing signature"))
    const { sig: _sig, ...withoutSig } = signed["signature"] as Signature
    expect(verifySignedDocument({ ...sampleDocument, signature: withoutSig }, pair.publicKey)).toStrictEqual(Either.left("missing signature"))
  })

  it("an empty signed_digest gives \"missing signed_digest\"", () => {
    expect(verifySignedDocument(withSignature(signed, { signed_digest: "" }), pair.publicKey)).toStrictEqual(
      Either.left("missing signed_digest")
    )
  })

  it("a bad alg gives \"unsupported alg: <alg>\" (checked after the digest)", () => {
    expect(verifySignedDocument(withSignature(signed, { alg: "rsa" }), pair.publicKey)).toStrictEqual(Either.left("unsupported alg: rsa"))
    expect(verifySignedDocument(withSignature(signed, { alg: "Ed25519" }), pair.publicKey)).toStrictEqual(
      Either.left("unsupported alg: Ed25519")
    )
    expect(verifySignedDocument({ ...withSignature(signed, { alg: "rsa" }), verdict: "block" }, pair.publicKey)).toStrictEqual(
      Either.left("signed_digest mismatch")
    )
  })

  it("a bad signature length gives \"invalid signature length: <n>\"", () => {
    const sig = Option.getOrThrow(decodeBase64Strict((signed["signature"] as Signature).sig))
    expect(verifySignedDocument(withSignature(signed, { sig: encodeBase64(sig.subarray(0, 63)) }), pair.publicKey)).toStrictEqual(
      Either.left("invalid signature length: 63")
    )
    expect(verifySignedDocument(withSignature(signed, { sig: encodeBase64(new Uint8Array(65)) }), pair.publicKey)).toStrictEqual(
      Either.left("invalid signature length: 65")
    )
    expect(verifySignedDocument(withSignature(signed, { sig: "" }), pair.publicKey)).toStrictEqual(Either.left("invalid signature length: 0"))
  })

  it("a sig that is not strict standard base64 gives \"decode sig: …\"", () => {
    const sig = (signed["signature"] as Signature).sig
    const urlSafe = Buffer.from(Option.getOrThrow(decodeBase64Strict(sig))).toString("base64url")
    const result = verifySignedDocument(withSignature(signed, { sig: urlSafe }), pair.publicKey)
    expect(Either.isLeft(result) && result.left.startsWith("decode sig: ")).toBe(true)
  })

  it("a document that cannot be canonicalized is reported, not thrown", () => {
    const bad = { ...signed, n: Number.NaN }
    expect(verifySignedDocument(bad, pair.publicKey)).toStrictEqual(Either.left("document cannot be canonicalized"))
  })

  const documentArb = fc.dictionary(
    fc.string({ minLength: 1, maxLength: 12 }).filter((k) => k !== "signature"),
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown),
    { maxKeys: 6 }
  )

  it.prop("sign → verify round trip for arbitrary JSON documents", [documentArb], ([document]) => {
    const fresh = generateKeyPair()
    const signedDoc = signDocument(fresh, document)
    expect(verifySignedDocument(signedDoc, fresh.publicKey)).toStrictEqual(Either.void)
    expect(verifySignedDocument(JSON.parse(JSON.stringify(signedDoc)) as Record<string, unknown>, fresh.publicKey)).toStrictEqual(Either.void)
    expect(verifySignedDocument({ ...signedDoc, "tampered-field-longer-than-keys": 1 }, fresh.publicKey)).toStrictEqual(Either.left("signed_digest mismatch"))
  }, { fastCheck: { numRuns: 50 } })
})
