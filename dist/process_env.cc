#include "dist/process_env.h"

#include <unistd.h>

#include <climits>
#include <utility>
#include <vector>

#include "core/error.h"
#include "dist/check.h"

extern char** environ;

namespace recsys::dist {
namespace {

using Env = std::map<std::string, std::string>;

const std::string* Find(const Env& env, const char* name) {
  const auto it = env.find(name);
  return it == env.end() ? nullptr : &it->second;
}

// A non-negative decimal integer that fits in int, the whole value and nothing else.
int ParseCount(const char* name, const std::string& value) {
  bool ok = !value.empty() && value.size() <= 10;
  for (char c : value) ok = ok && c >= '0' && c <= '9';
  const long long parsed = ok ? std::stoll(value) : -1;
  if (!ok || parsed > INT_MAX) {
    RECSYS_THROW("ProcessEnv: " << name << "='" << value << "' is not a non-negative integer");
  }
  return static_cast<int>(parsed);
}

int Require(const Env& env, const char* name, const char* launcher, const char* because) {
  const std::string* value = Find(env, name);
  if (value == nullptr) {
    RECSYS_THROW("ProcessEnv: " << because << " is set (launcher " << launcher << ") but " << name
                                << " is not");
  }
  return ParseCount(name, *value);
}

// "2(x3),1" -> {2, 2, 2, 1}.
std::vector<int> ParseTasksPerNode(const char* name, const std::string& value) {
  std::vector<int> tasks;
  size_t pos = 0;
  const auto fail = [&] {
    RECSYS_THROW("ProcessEnv: " << name << "='" << value
                                << "' is not a tasks-per-node list such as \"2(x3),1\"");
  };
  while (true) {
    const size_t end = value.find(',', pos);
    const std::string item = value.substr(pos, end == std::string::npos ? end : end - pos);
    const size_t paren = item.find('(');
    int repeat = 1;
    std::string count_text = item;
    if (paren != std::string::npos) {
      if (item.size() < paren + 4 || item.compare(paren, 2, "(x") != 0 || item.back() != ')') {
        fail();
      }
      count_text = item.substr(0, paren);
      const std::string repeat_text = item.substr(paren + 2, item.size() - paren - 3);
      bool digits = !repeat_text.empty();
      for (char c : repeat_text) digits = digits && c >= '0' && c <= '9';
      if (!digits) fail();
      repeat = ParseCount(name, repeat_text);
    }
    bool digits = !count_text.empty();
    for (char c : count_text) digits = digits && c >= '0' && c <= '9';
    if (!digits || repeat < 1) fail();
    tasks.insert(tasks.end(), repeat, ParseCount(name, count_text));
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return tasks;
}

int SlurmLocalSize(const Env& env) {
  for (const char* name :
       {"SLURM_STEP_TASKS_PER_NODE", "SLURM_TASKS_PER_NODE", "SLURM_NTASKS_PER_NODE"}) {
    const std::string* value = Find(env, name);
    if (value == nullptr) continue;
    const std::vector<int> tasks = ParseTasksPerNode(name, *value);
    if (tasks.size() == 1) return tasks[0];
    const std::string* node_id_text = Find(env, "SLURM_NODEID");
    const int node_id = node_id_text ? ParseCount("SLURM_NODEID", *node_id_text) : 0;
    if (static_cast<size_t>(node_id) >= tasks.size()) {
      RECSYS_THROW("ProcessEnv: SLURM_NODEID=" << node_id << " but " << name << "='" << *value
                                               << "' lists " << tasks.size() << " nodes");
    }
    return tasks[node_id];
  }
  RECSYS_THROW(
      "ProcessEnv: SLURM_PROCID is set (launcher srun) but none of SLURM_STEP_TASKS_PER_NODE, "
      "SLURM_TASKS_PER_NODE, SLURM_NTASKS_PER_NODE is");
}

void CheckBelow(int value, const char* value_name, int bound, const char* bound_name) {
  if (value >= bound) {
    RECSYS_THROW("ProcessEnv: " << value_name << "=" << value << " is not below " << bound_name
                                << "=" << bound);
  }
}

}  // namespace

ProcessEnv ParseProcessEnv(const std::map<std::string, std::string>& env, std::string host) {
  ProcessEnv result;
  result.host = std::move(host);
  if (Find(env, "OMPI_COMM_WORLD_RANK") || Find(env, "OMPI_COMM_WORLD_SIZE")) {
    const char* because =
        Find(env, "OMPI_COMM_WORLD_SIZE") ? "OMPI_COMM_WORLD_SIZE" : "OMPI_COMM_WORLD_RANK";
    result.launcher = "mpirun";
    // PMIX_RANK stands in for a missing OMPI_COMM_WORLD_RANK.
    const char* rank_name = !Find(env, "OMPI_COMM_WORLD_RANK") && Find(env, "PMIX_RANK")
                                ? "PMIX_RANK"
                                : "OMPI_COMM_WORLD_RANK";
    result.rank = Require(env, rank_name, "mpirun", because);
    result.world_size = Require(env, "OMPI_COMM_WORLD_SIZE", "mpirun", because);
    result.local_rank = Require(env, "OMPI_COMM_WORLD_LOCAL_RANK", "mpirun", because);
    result.local_size = Require(env, "OMPI_COMM_WORLD_LOCAL_SIZE", "mpirun", because);
    CheckBelow(result.rank, rank_name, result.world_size, "OMPI_COMM_WORLD_SIZE");
    CheckBelow(result.local_rank, "OMPI_COMM_WORLD_LOCAL_RANK", result.local_size,
               "OMPI_COMM_WORLD_LOCAL_SIZE");
    CheckBelow(result.local_size - 1, "OMPI_COMM_WORLD_LOCAL_SIZE - 1", result.world_size,
               "OMPI_COMM_WORLD_SIZE");
  } else if (Find(env, "SLURM_PROCID")) {
    result.launcher = "srun";
    result.rank = Require(env, "SLURM_PROCID", "srun", "SLURM_PROCID");
    result.world_size = Require(env, "SLURM_NTASKS", "srun", "SLURM_PROCID");
    result.local_rank = Require(env, "SLURM_LOCALID", "srun", "SLURM_PROCID");
    result.local_size = SlurmLocalSize(env);
    CheckBelow(result.rank, "SLURM_PROCID", result.world_size, "SLURM_NTASKS");
    CheckBelow(result.local_rank, "SLURM_LOCALID", result.local_size, "tasks on this node");
    CheckBelow(result.local_size - 1, "tasks on this node - 1", result.world_size, "SLURM_NTASKS");
  }
  return result;
}

ProcessEnv CurrentProcessEnv() {
  std::map<std::string, std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string text = *entry;
    const size_t eq = text.find('=');
    if (eq != std::string::npos) env.emplace(text.substr(0, eq), text.substr(eq + 1));
  }
  return ParseProcessEnv(env, HostName());
}

int LocalRankFromMpi(MPI_Comm comm) {
  MPI_Comm local = MPI_COMM_NULL;
  RECSYS_MPI_CHECK(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &local));
  int local_rank = -1;
  RECSYS_MPI_CHECK(MPI_Comm_rank(local, &local_rank));
  RECSYS_MPI_CHECK(MPI_Comm_free(&local));
  return local_rank;
}

}  // namespace recsys::dist
