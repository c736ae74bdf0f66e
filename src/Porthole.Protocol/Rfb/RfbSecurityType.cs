namespace Porthole.Protocol.Rfb;

/// <summary>RFB security types (RFC 6143 §7.1.2 and the IANA registry) that matter to Porthole.</summary>
public static class RfbSecurityType
{
    public const byte Invalid = 0;
    public const byte None = 1;
    public const byte VncAuthentication = 2;
    public const byte Tight = 16;
    public const byte VeNCrypt = 19;

    /// <summary>A readable name for error messages.</summary>
    public static string Name(byte type) => type switch
    {
        None => "None",
        VncAuthentication => "VNC Authentication",
        Tight => "Tight",
        VeNCrypt => "VeNCrypt",
        5 => "RA2",
        6 => "RA2ne",
        18 => "TLS",
        30 => "Apple DH",
        _ => $"type {type}",
    };
}
