// register_builtin_tasks(): calls every task's registration function listed in
// builtin_tasks.def, so no static-library linker can drop a task.
#include "datasets/task.hpp"

namespace cellzoo::datasets {

#define CELLZOO_TASK(id) void register_task_##id(TaskRegistry&);
#include "datasets/builtin_tasks.def"
#undef CELLZOO_TASK

void register_builtin_tasks(TaskRegistry& registry) {
#define CELLZOO_TASK(id) register_task_##id(registry);
#include "datasets/builtin_tasks.def"
#undef CELLZOO_TASK
}

}  // namespace cellzoo::datasets
