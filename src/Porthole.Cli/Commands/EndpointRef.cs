namespace Porthole.Cli.Commands;

/// <summary>An endpoint named on the command line as <c>DEVICE/ENDPOINT</c>.</summary>
public readonly record struct EndpointRef(string Device, string Endpoint)
{
    /// <summary>Splits on the first '/' (device names cannot contain one); a malformed value is a usage error.</summary>
    public static EndpointRef Parse(string? text)
    {
        var slash = text?.IndexOf('/', StringComparison.Ordinal) ?? -1;
        if (text is null || slash <= 0 || slash == text.Length - 1)
        {
            throw CliException.Usage($"'{text}' is not DEVICE/ENDPOINT, e.g. gw-01/ssh");
        }

        return new EndpointRef(text[..slash], text[(slash + 1)..]);
    }

    /// <inheritdoc />
    public override string ToString() => Device + "/" + Endpoint;
}
