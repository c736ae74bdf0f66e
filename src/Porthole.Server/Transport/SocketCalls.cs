using System.Runtime.InteropServices;

namespace Porthole.Server.Transport;

/// <summary>
/// The three system calls the hot path makes on a socket's descriptor itself (Linux): a non-blocking receive and send,
/// and a poll for readiness. .NET's own synchronous socket calls would wait through its event thread once the socket has
/// been used asynchronously (it is then non-blocking underneath), which is the hop this transport exists to avoid.
/// </summary>
internal static class SocketCalls
{
    private const int DontWait = 0x40;      // MSG_DONTWAIT
    private const int NoSignal = 0x4000;    // MSG_NOSIGNAL: a closed peer is an error, not SIGPIPE
    private const int WouldBlock = 11;      // EAGAIN / EWOULDBLOCK
    private const int Interrupted = 4;      // EINTR
    private const short PollIn = 0x1;
    private const short PollOut = 0x4;

    /// <summary>Bytes received; 0 at the end of the stream; −1 when nothing is there yet.</summary>
    /// <exception cref="IOException">The receive failed.</exception>
    public static int TryReceive(int fd, Span<byte> buffer)
    {
        while (true)
        {
            var received = Receive(fd, ref MemoryMarshal.GetReference(buffer), buffer.Length, DontWait);
            if (received >= 0)
            {
                return (int)received;
            }

            var error = Marshal.GetLastPInvokeError();
            if (error == WouldBlock)
            {
                return -1;
            }

            if (error != Interrupted)
            {
                throw new IOException($"receive failed (errno {error})");
            }
        }
    }

    /// <summary>Bytes sent, possibly fewer than given; 0 when the socket's buffer is full.</summary>
    /// <exception cref="IOException">The send failed (the peer has gone).</exception>
    public static int TrySend(int fd, ReadOnlySpan<byte> buffer)
    {
        while (true)
        {
            var sent = Send(fd, ref MemoryMarshal.GetReference(buffer), buffer.Length, DontWait | NoSignal);
            if (sent >= 0)
            {
                return (int)sent;
            }

            var error = Marshal.GetLastPInvokeError();
            if (error == WouldBlock)
            {
                return 0;
            }

            if (error != Interrupted)
            {
                throw new IOException($"send failed (errno {error})");
            }
        }
    }

    /// <summary>Waits up to <paramref name="milliseconds"/> (−1: for good) for the socket to be readable, closed or in error.</summary>
    public static bool WaitReadable(int fd, int milliseconds) => Wait(fd, PollIn, milliseconds);

    /// <summary>Waits up to <paramref name="milliseconds"/> for room in the socket's send buffer (or an error).</summary>
    public static bool WaitWritable(int fd, int milliseconds) => Wait(fd, PollOut, milliseconds);

    private static bool Wait(int fd, short events, int milliseconds)
    {
        var poll = new PollFd { Fd = fd, Events = events };
        while (true)
        {
            var ready = Poll(ref poll, 1, milliseconds);
            if (ready >= 0)
            {
                return ready > 0;
            }

            if (Marshal.GetLastPInvokeError() != Interrupted)
            {
                return true; // let the receive that follows report the error
            }
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [DllImport("libc", EntryPoint = "recv", SetLastError = true)]
    private static extern nint Receive(int fd, ref byte buffer, nint length, int flags);

    [DllImport("libc", EntryPoint = "send", SetLastError = true)]
    private static extern nint Send(int fd, ref byte buffer, nint length, int flags);

    [DllImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static extern int Poll(ref PollFd fds, nuint count, int timeout);
}
