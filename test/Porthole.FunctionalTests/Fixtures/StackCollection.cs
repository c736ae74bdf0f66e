namespace Porthole.FunctionalTests.Fixtures;

/// <summary>Tests in this collection share one server, CLI login and sshd (starting them takes seconds).</summary>
[CollectionDefinition(Name)]
public sealed class StackCollection : ICollectionFixture<PortholeStack>
{
    public const string Name = "stack";
}
