#include "oauth2/storage/storage.h"

#include <gtest/gtest.h>

namespace gh::oauth2 {
namespace {

std::unique_ptr<Storage> memory_storage() {
  auto storage = open_storage("memory");
  EXPECT_TRUE(storage) << (storage ? "" : storage.error());
  auto version = (*storage)->migrate();
  EXPECT_TRUE(version);
  return std::move(*storage);
}

Client sample_client(std::string id) {
  Client client;
  client.client_id = std::move(id);
  client.client_name = "name of " + client.client_id;
  client.secret_hash = "$pbkdf2-sha256$i=1,l=32$c2FsdA$Eg";
  client.grant_types = {"client_credentials"};
  client.scope = "read write";
  client.audience = {"https://api.example.com"};
  client.metadata = boost::json::object{{"team", "payments"}};
  client.created_at = 100;
  client.updated_at = 200;
  return client;
}

TEST(Storage, MigrateIsIdempotent) {
  auto storage = memory_storage();
  EXPECT_EQ((*storage).schema_version().value(), latest_schema_version());
  auto again = storage->migrate();
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, latest_schema_version());
}

TEST(Storage, FreshDatabaseHasVersionZero) {
  auto storage = open_storage("memory");
  ASSERT_TRUE(storage);
  EXPECT_EQ((*storage)->schema_version().value(), 0);
}

TEST(Storage, ClientRoundTrip) {
  auto storage = memory_storage();
  ASSERT_TRUE(storage->create_client(sample_client("c1")));
  auto loaded = storage->get_client("c1");
  ASSERT_TRUE(loaded);
  ASSERT_TRUE(*loaded);
  const Client& client = **loaded;
  EXPECT_EQ(client.client_name, "name of c1");
  EXPECT_EQ(client.secret_hash, "$pbkdf2-sha256$i=1,l=32$c2FsdA$Eg");
  EXPECT_EQ(client.grant_types, std::vector<std::string>{"client_credentials"});
  EXPECT_EQ(client.scope, "read write");
  EXPECT_EQ(client.audience, std::vector<std::string>{"https://api.example.com"});
  EXPECT_EQ(client.metadata, boost::json::value(boost::json::object{{"team", "payments"}}));
  EXPECT_EQ(client.created_at, 100);
  EXPECT_EQ(client.updated_at, 200);
  EXPECT_FALSE(*storage->get_client("missing"));
}

TEST(Storage, DuplicateClientIsConflict) {
  auto storage = memory_storage();
  ASSERT_TRUE(storage->create_client(sample_client("c1")));
  auto again = storage->create_client(sample_client("c1"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, StorageError::Code::conflict);
}

TEST(Storage, ListPagesByIdAndFilters) {
  auto storage = memory_storage();
  for (std::string id : {"c", "a", "b"}) ASSERT_TRUE(storage->create_client(sample_client(id)));
  ClientFilter filter;
  filter.page_size = 2;
  auto first = storage->list_clients(filter);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->clients.size(), 2u);
  EXPECT_EQ(first->clients[0].client_id, "a");
  EXPECT_EQ(first->clients[1].client_id, "b");
  ASSERT_TRUE(first->next_page_token);
  filter.page_token = *first->next_page_token;
  auto second = storage->list_clients(filter);
  ASSERT_EQ(second->clients.size(), 1u);
  EXPECT_EQ(second->clients[0].client_id, "c");
  EXPECT_FALSE(second->next_page_token);

  ClientFilter by_name;
  by_name.client_name = "name of b";
  auto named = storage->list_clients(by_name);
  ASSERT_EQ(named->clients.size(), 1u);
  EXPECT_EQ(named->clients[0].client_id, "b");
}

TEST(Storage, UpdateAndDeleteClient) {
  auto storage = memory_storage();
  ASSERT_TRUE(storage->create_client(sample_client("c1")));
  Client changed = sample_client("c1");
  changed.scope = "admin";
  EXPECT_TRUE(storage->update_client(changed).value());
  EXPECT_EQ((*storage->get_client("c1").value()).scope, "admin");
  EXPECT_FALSE(storage->update_client(sample_client("missing")).value());
  EXPECT_TRUE(storage->delete_client("c1").value());
  EXPECT_FALSE(storage->delete_client("c1").value());
}

TEST(Storage, TokensRevokeAndPurge) {
  auto storage = memory_storage();
  TokenRecord token;
  token.signature_hash = "hash-1";
  token.client_id = "c1";
  token.subject = "c1";
  token.scopes = {"read", "write"};
  token.audience = {"https://api.example.com"};
  token.strategy = "opaque";
  token.issued_at = 1000;
  token.expires_at = 4600;
  ASSERT_TRUE(storage->insert_token(token));
  auto loaded = storage->get_token("hash-1").value();
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->scopes, token.scopes);
  EXPECT_EQ(loaded->audience, token.audience);
  EXPECT_EQ(loaded->expires_at, 4600);
  EXPECT_FALSE(loaded->revoked);

  EXPECT_TRUE(storage->revoke_token("hash-1").value());
  EXPECT_TRUE(storage->get_token("hash-1").value()->revoked);
  EXPECT_FALSE(storage->revoke_token("unknown").value());

  EXPECT_EQ(storage->purge(4599).value(), 0);
  EXPECT_EQ(storage->purge(4600).value(), 1);  // invalid from its expiry second on
  EXPECT_FALSE(storage->get_token("hash-1").value());
}

TEST(Storage, DeletingClientDeletesTokens) {
  auto storage = memory_storage();
  ASSERT_TRUE(storage->create_client(sample_client("c1")));
  TokenRecord token;
  token.signature_hash = "hash-1";
  token.client_id = "c1";
  token.expires_at = 10;
  ASSERT_TRUE(storage->insert_token(token));
  ASSERT_TRUE(storage->delete_client("c1").value());
  EXPECT_FALSE(storage->get_token("hash-1").value());
}

TEST(Storage, JtiIsSingleUse) {
  auto storage = memory_storage();
  EXPECT_TRUE(storage->record_jti("c1", "id-1", 100).value());
  EXPECT_FALSE(storage->record_jti("c1", "id-1", 100).value());
  EXPECT_TRUE(storage->record_jti("c2", "id-1", 100).value());
  ASSERT_TRUE(storage->purge(101));
  EXPECT_TRUE(storage->record_jti("c1", "id-1", 200).value());
}

TEST(Storage, KeysRetireAndPurge) {
  auto storage = memory_storage();
  ASSERT_TRUE(storage->insert_key(SigningKey{"k1", "RS256", "sealed-1", 10, std::nullopt}));
  ASSERT_TRUE(storage->insert_key(SigningKey{"k2", "RS256", "sealed-2", 20, std::nullopt}));
  ASSERT_TRUE(storage->retire_keys_except("k2", 500));
  auto keys = storage->list_keys(100).value();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].kid, "k2");
  EXPECT_FALSE(keys[0].retire_at);
  EXPECT_EQ(keys[1].retire_at, std::optional<int64_t>(500));
  EXPECT_EQ(storage->list_keys(500).value().size(), 1u);
  ASSERT_TRUE(storage->purge(501));
  EXPECT_EQ(storage->list_keys(0).value().size(), 1u);
}

TEST(Storage, UnsupportedDsn) {
  auto storage = open_storage("mysql://user@host/db");
  ASSERT_FALSE(storage);
  EXPECT_NE(storage.error().find("mysql"), std::string::npos);
  EXPECT_FALSE(open_storage("sqlite://"));
}

}  // namespace
}  // namespace gh::oauth2
