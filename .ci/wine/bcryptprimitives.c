/*
 * bcryptprimitives.dll for Debian's Wine 8, which lacks ProcessPrng: the Go
 * runtime (1.24 and later) takes its random bytes from that export alone and
 * stops at start without it. Windows 10 and later have the real DLL; this one
 * is only for running the station under Wine in CI (.ci/wine-smoke.sh).
 */
#include <windows.h>

/* RtlGenRandom, exported by advapi32 under this name. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
	while (length > 0) {
		/* RtlGenRandom takes a ULONG length: fill large buffers in pieces. */
		ULONG n = length > 0x10000000 ? 0x10000000 : (ULONG)length;
		if (!SystemFunction036(data, n))
			return FALSE;
		data += n;
		length -= n;
	}
	return TRUE;
}
