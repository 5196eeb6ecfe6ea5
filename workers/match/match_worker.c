#include "minga/worker.h"
static const minga_handler_t s_handlers[] = {{NULL, NULL, NULL}};
int main(int argc, char **argv)
{
    return minga_worker_main("minga-match-worker", s_handlers, argc, argv);
}
