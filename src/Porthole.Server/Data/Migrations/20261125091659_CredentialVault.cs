using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Porthole.Server.Data.Migrations
{
    /// <inheritdoc />
    public partial class CredentialVault : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "CredentialKind",
                table: "Endpoints",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "CredentialUpdatedAt",
                table: "Endpoints",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "CredentialUsername",
                table: "Endpoints",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ProtectedSecret",
                table: "Endpoints",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "SshHostKey",
                table: "Endpoints",
                type: "TEXT",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "CredentialKind",
                table: "Endpoints");

            migrationBuilder.DropColumn(
                name: "CredentialUpdatedAt",
                table: "Endpoints");

            migrationBuilder.DropColumn(
                name: "CredentialUsername",
                table: "Endpoints");

            migrationBuilder.DropColumn(
                name: "ProtectedSecret",
                table: "Endpoints");

            migrationBuilder.DropColumn(
                name: "SshHostKey",
                table: "Endpoints");
        }
    }
}
