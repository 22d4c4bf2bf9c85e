/** The host as the Go reference names it (GOOS / GOARCH), for records that carry an environment. */

const GO_OS: Readonly<Record<string, string>> = { win32: "windows", sunos: "solaris" }
const GO_ARCH: Readonly<Record<string, string>> = { x64: "amd64", ia32: "386", ppc64: "ppc64le" }

export interface GoHost {
  readonly os: string
  readonly arch: string
}

/** `linux`/`darwin`/`windows` and `amd64`/`arm64`/…: Node's names mapped where Go's differ. */
export const goHost = (): GoHost => ({
  os: GO_OS[process.platform] ?? process.platform,
  arch: GO_ARCH[process.arch] ?? process.arch
})
