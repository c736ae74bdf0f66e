using System.Runtime.InteropServices;
using static Porthole.Tunnel.Tls.OpenSslCalls;

namespace Porthole.Tunnel.Tls;

/// <summary>Where a <see cref="RecordSinkBio"/> puts the records OpenSSL encrypts: it sends them or keeps them for one send.</summary>
public interface ITlsRecordSink
{
    /// <summary>Takes all of <paramref name="records"/> or throws; never asks OpenSSL to retry.</summary>
    void Write(ReadOnlySpan<byte> records);
}

/// <summary>
/// The write side of an OpenSSL session on a socket (the server's <c>OpenSslSession</c>, the clients'
/// <see cref="OpenSslClientStream"/>): a BIO whose writes go to an <see cref="ITlsRecordSink"/>, so that the records of
/// one flush leave in one send (the socket BIO would send each 16 KiB record on its own, four times the system calls and
/// wake-ups per relayed message), and a full socket queues the rest instead of failing the write: OpenSSL never has to
/// be asked again to send. Reads stay on a socket BIO.
/// </summary>
public static unsafe class RecordSinkBio
{
    private static readonly Lazy<nint> Method = new(CreateMethod);

    /// <summary>A BIO writing to <paramref name="target"/>, held by <paramref name="handle"/> until the BIO is freed.</summary>
    public static nint Create(ITlsRecordSink target, out GCHandle handle)
    {
        var bio = BIO_new(Method.Value);
        if (bio == 0)
        {
            throw new IOException("OpenSSL could not create the send BIO: " + TakeError("no reason given"));
        }

        handle = GCHandle.Alloc(target);
        BIO_set_data(bio, GCHandle.ToIntPtr(handle));
        BIO_set_init(bio, 1);
        return bio;
    }

    private static nint CreateMethod()
    {
        // The name must outlive the method, which lives as long as the process.
        var name = (byte*)NativeMemory.Alloc(16);
        "porthole-send\0"u8.CopyTo(new Span<byte>(name, 16));
        var method = BIO_meth_new(BIO_get_new_index() | BioTypeSourceSink, name);
        if (method == 0 || BIO_meth_set_write(method, &Write) != 1 || BIO_meth_set_ctrl(method, &Control) != 1)
        {
            throw new IOException("OpenSSL could not create the send BIO method: " + TakeError("no reason given"));
        }

        return method;
    }

    [UnmanagedCallersOnly]
    private static int Write(nint bio, byte* data, int length)
    {
        try
        {
            var target = (ITlsRecordSink)GCHandle.FromIntPtr(BIO_get_data(bio)).Target!;
            target.Write(new ReadOnlySpan<byte>(data, length));
            return length;
        }
        catch (Exception)
        {
            // The send failed or the connection is closed: OpenSSL reports a failed write, and the session an IOException.
            // Nothing may cross back into native code.
            return -1;
        }
    }

    // Flush is done (the sink sends or keeps every write); nothing else is supported.
    [UnmanagedCallersOnly]
    private static long Control(nint bio, int command, long value, nint pointer) => command == BioControlFlush ? 1 : 0;
}
