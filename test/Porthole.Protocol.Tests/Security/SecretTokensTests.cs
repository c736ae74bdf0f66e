using Porthole.Protocol.Security;

namespace Porthole.Protocol.Tests.Security;

public sealed class SecretTokensTests
{
    [Theory]
    [InlineData(SecretTokens.ApiTokenPrefix)]
    [InlineData(SecretTokens.EnrolmentPrefix)]
    [InlineData(SecretTokens.DeviceCredentialPrefix)]
    public void Create_StartsWithPrefixFollowedBy256BitsOfBase64Url(string prefix)
    {
        var secret = SecretTokens.Create(prefix);

        Assert.StartsWith(prefix, secret, StringComparison.Ordinal);
        var body = secret[prefix.Length..];
        Assert.Equal(43, body.Length); // 32 bytes in unpadded base64.
        Assert.All(body, c => Assert.True(char.IsAsciiLetterOrDigit(c) || c is '-' or '_', $"'{c}' is not base64url"));
    }

    [Fact]
    public void Prefixes_AreTheDocumentedOnes()
    {
        Assert.Equal("pat_", SecretTokens.ApiTokenPrefix);
        Assert.Equal("pte_", SecretTokens.EnrolmentPrefix);
        Assert.Equal("ptd_", SecretTokens.DeviceCredentialPrefix);
    }

    [Fact]
    public void Create_NeverRepeats()
    {
        var secrets = Enumerable.Range(0, 1000).Select(_ => SecretTokens.Create(SecretTokens.ApiTokenPrefix)).ToHashSet(StringComparer.Ordinal);

        Assert.Equal(1000, secrets.Count);
    }

    [Fact]
    public void CreateId_IsUrlSafeAndNeverRepeats()
    {
        var ids = Enumerable.Range(0, 1000).Select(_ => SecretTokens.CreateId()).ToList();

        Assert.Equal(1000, ids.ToHashSet(StringComparer.Ordinal).Count);
        Assert.All(ids, id =>
        {
            Assert.Equal(22, id.Length); // 16 bytes in unpadded base64.
            Assert.All(id, c => Assert.True(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'));
        });
    }

    [Fact]
    public void Hash_IsStableLowercaseSha256Hex()
    {
        var secret = SecretTokens.Create(SecretTokens.DeviceCredentialPrefix);

        var hash = SecretTokens.Hash(secret);

        Assert.Equal(hash, SecretTokens.Hash(secret));
        Assert.Matches("^[0-9a-f]{64}$", hash);
        Assert.DoesNotContain(secret, hash, StringComparison.Ordinal);
    }

    [Fact]
    public void Hash_OfKnownInput_MatchesSha256()
    {
        // echo -n abc | sha256sum
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", SecretTokens.Hash("abc"));
    }

    [Fact]
    public void Hash_DiffersBetweenSecrets()
    {
        var a = SecretTokens.Create(SecretTokens.ApiTokenPrefix);
        var b = SecretTokens.Create(SecretTokens.ApiTokenPrefix);

        Assert.NotEqual(SecretTokens.Hash(a), SecretTokens.Hash(b));
    }

    [Fact]
    public void FixedTimeEquals_IsTrueOnlyForIdenticalSecrets()
    {
        var secret = SecretTokens.Create(SecretTokens.ApiTokenPrefix);

        Assert.True(SecretTokens.FixedTimeEquals(secret, new string(secret.AsSpan())));
        Assert.False(SecretTokens.FixedTimeEquals(secret, SecretTokens.Create(SecretTokens.ApiTokenPrefix)));
        Assert.False(SecretTokens.FixedTimeEquals(secret, secret[..^1]));
        Assert.False(SecretTokens.FixedTimeEquals(secret, secret + "x"));
        Assert.False(SecretTokens.FixedTimeEquals(secret, secret.ToUpperInvariant()));
        Assert.False(SecretTokens.FixedTimeEquals(secret, ""));
    }
}
